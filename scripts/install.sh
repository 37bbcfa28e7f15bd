#!/usr/bin/env bash
# Install selfinstruct into ./.venv (CPU build of torch), from the project's own files.
#   bash scripts/install.sh
# Set SELFINSTRUCT_TORCH to another torch requirement (e.g. "torch" on a CUDA machine).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Pin torch first: a range that admits a newer release would pull the CUDA wheels.
.venv/bin/python -m pip install -q "${SELFINSTRUCT_TORCH:-torch==2.13.0}"
.venv/bin/python -m pip install -q -e ".[dev]"
echo "installed: $(.venv/bin/selfinstruct --version)"
