"""`selfinstruct finetune run` starts without the libraries it does not use: loading the command
tree imports neither the OpenAI client (only batch runs need it) nor torch (only command bodies)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_tree_loads_without_the_openai_client_or_torch():
    probe = "import sys, commands.main; print(' '.join(m for m in ('openai', 'torch', 'transformers') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.stdout.strip() == ""
