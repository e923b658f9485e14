#!/usr/bin/env bash
# Print the path of a uv binary. Uses uv from PATH if there is one; otherwise installs the pinned
# uv from PyPI into a private virtual environment under .tools/ (no system pip, no PEP 668 issues).
set -euo pipefail
UV_VERSION=0.13.8
cd "$(dirname "$0")/.."
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
TOOLS="$PWD/.tools/uv"
if [ ! -x "$TOOLS/bin/uv" ]; then
  PY=$(command -v python3 || command -v python || true)
  [ -n "$PY" ] || { echo "[ensure-uv] python3 is required" >&2; exit 1; }
  echo "[ensure-uv] installing uv==$UV_VERSION into $TOOLS" >&2
  if ! "$PY" -m venv "$TOOLS" >&2; then
    echo "[ensure-uv] python3 -m venv failed; installing Debian's python3-venv" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    "$PY" -m venv "$TOOLS" >&2
  fi
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION" >&2
fi
echo "$TOOLS/bin/uv"
