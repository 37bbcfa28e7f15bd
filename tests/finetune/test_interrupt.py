"""Ctrl-C in `finetune run` saves the steps done and says how the rerun goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FAST = ["max_length=128", "learning_rate=3e-3", "warmup_ratio=0", "progress_bar=false", "precision=fp32",
        "log_every=1", "save_every=0"]


def _run(records_file, tiny_model, out, *extra) -> list[str]:
    return [sys.executable, "-c", "from commands.main import cli; cli()", "finetune", "run", "--dataset",
            str(records_file), "--model", str(tiny_model), "--recipe", "tiny-cpu", "--output", str(out), *FAST, *extra]


def _logged_steps(out: Path) -> list[int]:
    metrics = out / "metrics.jsonl"
    lines = metrics.read_text().splitlines() if metrics.exists() else []
    return [json.loads(x)["step"] for x in lines if x.strip() and "loss" in json.loads(x)]


@pytest.mark.slow
@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                   (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_run_saves_a_checkpoint_and_the_rerun_resumes_from_it(tmp_path, records_file, tiny_model,
                                                                              signum, status, word):
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_run(records_file, tiny_model, out, "max_steps=100000"), cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while len(_logged_steps(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # polling for progress, not timing what is checked
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == status, err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"{word}: at step ") and "add resume_from=auto" in line, err
    saved = sorted((out / "checkpoints").glob("step-*"))
    assert len(saved) == 1 and str(saved[0]) in line
    step = int(saved[0].name.split("-")[1])
    assert step >= 2 and f"at step {step} of 100000" in line
    resumed = subprocess.run(_run(records_file, tiny_model, out, f"max_steps={step + 1}", "resume_from=auto"),
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert _logged_steps(out)[-1] == step + 1 and (out / "README.md").exists()
