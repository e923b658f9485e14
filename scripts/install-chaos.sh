#!/usr/bin/env bash
# What `make chaos` needs beyond `make test`: libfaketime (Debian's), to run a runner whose clock
# is 10 minutes off. Idempotent.
set -euo pipefail
if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then
  echo "[install-chaos] apt-get install libfaketime" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends libfaketime >&2
fi
