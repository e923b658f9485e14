#!/usr/bin/env bash
# Print the path of a uv binary, installing the pinned uv from PyPI first if none is on PATH.
set -euo pipefail
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1; then command -v uv; exit 0; fi
PY=$(command -v python3 || command -v python)
if ! "$PY" -c "import uv" >/dev/null 2>&1; then
  echo "[ensure-uv] installing uv==$UV_VERSION with pip" >&2
  "$PY" -m pip install -q "uv==$UV_VERSION" >&2 2>/dev/null \
    || "$PY" -m pip install -q --user "uv==$UV_VERSION" >&2 \
    || "$PY" -m pip install -q --break-system-packages "uv==$UV_VERSION" >&2
fi
"$PY" -c "import uv; print(uv.find_uv_bin())"
