"""Ctrl-C gives exit status 130 in every command, not only generate: one mechanism in the top group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl

import registry

ROOT = Path(__file__).resolve().parent.parent


def test_ctrl_c_in_a_registry_command_exits_130(tmp_path):
    root = str(tmp_path / "reg")
    registry.commit(pl.DataFrame({"instruction": ["Name a river."], "input": [""], "output": ["Nile"]}),
                    name="d", lineage={"operation": "import"}, root=root)
    # The "editor" interrupts the command waiting for it, as Ctrl-C in a terminal would.
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nkill -INT $PPID\nsleep 1\n")
    editor.chmod(0o755)
    env = {**os.environ, "EDITOR": str(editor), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "selfinstruct", "registry", "datasheet", "d@1", "--edit",
                           "--registry", root], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
