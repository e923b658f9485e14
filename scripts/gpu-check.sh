#!/usr/bin/env bash
# Exercise the NVML meter and the runner's sampler/energy accounting on a real GPU; print the figures.
# Uses the project's venv when there is one (make gpu-check); on a bare GPU box, system Python plus
# wheels in .whl/ (pydantic and its needs): see the README's "GPU check" section.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/schemas/src:$PWD/services/runner/src:${PYTHONPATH:-}"
PY=python3
if [ -x .venv/bin/python ]; then
  PY=.venv/bin/python
elif [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/llem-site .whl/*.whl
  export PYTHONPATH="/tmp/llem-site:$PYTHONPATH"
fi
nvidia-smi --query-gpu=name,driver_version,power.draw,power.limit,temperature.gpu --format=csv 2>/dev/null || true
exec "$PY" scripts/gpu_check.py
