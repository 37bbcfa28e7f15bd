"""Our learning-rate schedules give transformers' rates bit for bit, and a training run does not
import peft (transformers' scheduler module does, at about 1.9 s, whenever peft is installed)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from finetune.schedule import build_scheduler, multiplier

ROOT = Path(__file__).resolve().parents[2]
THEIRS = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}


def _rates(scheduler, optimizer, steps):
    rates = []
    for _ in range(steps):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("name", sorted(THEIRS))
@pytest.mark.parametrize("warmup,total", [(0, 1), (0, 7), (3, 3), (2, 10), (12, 406), (1, 2)])
def test_rates_equal_transformers_bit_for_bit(name, warmup, total):
    from transformers import get_scheduler

    ours_opt, their_opt = (torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2e-5) for _ in range(2))
    ours = _rates(build_scheduler(name, ours_opt, warmup, total), ours_opt, total + 3)
    theirs = _rates(get_scheduler(THEIRS[name], their_opt, warmup, total), their_opt, total + 3)
    assert ours == theirs


def test_an_unknown_schedule_is_refused_before_any_step():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="unknown schedule 'step'"):
        build_scheduler("step", opt, 3, 10)  # a warmup first: the name is checked before it
    assert multiplier("cosine", 0, 0, 10) == 1.0 and multiplier("linear", 10, 0, 10) == 0.0


@pytest.mark.skipif(importlib.util.find_spec("peft") is None, reason="peft is not installed, so nothing could import it")
def test_a_training_run_does_not_import_peft(tmp_path, records_file, tiny_model):
    probe = (
        "import sys, json\n"
        "from finetune.config import load_config\n"
        "from finetune.train import train\n"
        f"cfg = load_config(None, ['max_steps=2', 'max_length=64', 'progress_bar=false', 'precision=fp32'],"
        f" dataset={str(records_file)!r}, model={str(tiny_model)!r}, output={str(tmp_path / 'out')!r})\n"
        "train(cfg)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'peft' or m.startswith('peft.'))))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
