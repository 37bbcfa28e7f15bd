"""Two CPU processes (gloo) reach the parameters of one process at the same global batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from finetune.config import load_config
from finetune.train import train

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["max_length=128", "learning_rate=3e-3", "warmup_ratio=0", "progress_bar=false",
          "precision=fp32", "max_steps=3", "global_batch_size=8", "per_device_batch_size=2",
          "loss_averaging=token", "eval_fraction=0.1"]


@pytest.mark.slow
@pytest.mark.parametrize("packing", ["false", "true"])
def test_two_processes_match_one(tmp_path, records_file, tiny_model, packing):
    one = train(load_config(None, [*COMMON, f"packing={packing}"], dataset=str(records_file),
                            model=str(tiny_model), output=str(tmp_path / "one")))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "CUDA_VISIBLE_DEVICES": "", "PYTHONFAULTHANDLER": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--standalone", "-m", "finetune", "run", "--dataset", str(records_file),
           "--model", str(tiny_model), "--output", str(tmp_path / "two"), *COMMON,
           f"packing={packing}"]
    # Own session, so a timeout can end the launcher and both workers together.
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints every worker's stack
        _, stderr = proc.communicate(timeout=30)
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("two-process run timed out:\n" + stderr[-6000:])
    assert proc.returncode == 0, stderr[-3000:]
    a, b = load_file(str(one / "model.safetensors")), load_file(str(tmp_path / "two" / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    card = (tmp_path / "two" / "README.md").read_text()
    assert "x 2 |" in card  # per-device x accumulation x 2 processes
