"""`python -m selfinstruct` runs the toolkit's own packages whatever the current folder holds, and
the generation methods the config accepts are the ones the run loop can drive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from selfinstruct.config import METHODS
from selfinstruct.methods import DRIVERS

ROOT = Path(__file__).resolve().parent.parent


def test_python_m_ignores_a_folder_whose_files_share_the_toolkits_package_names(tmp_path):
    for name in ("records", "registry", "evaluation"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('the folder\\'s own {name}.py was imported')\n")
    (tmp_path / "commands").mkdir()
    (tmp_path / "commands" / "__init__.py").write_text("raise SystemExit('the folder\\'s commands/ was imported')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "selfinstruct", "--version"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("selfinstruct, version")


def test_every_method_the_config_accepts_has_a_driver():
    assert set(METHODS) == set(DRIVERS)
