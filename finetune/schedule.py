"""The learning-rate schedules a recipe can name, as multipliers of the peak rate.

    scheduler: cosine | linear | constant, each after a linear warmup from 0

The multipliers are transformers' (`get_scheduler` with "cosine", "linear" and
"constant_with_warmup"), the same float operations in the same order, so a run's rates match the
Trainer's bit for bit (tests/finetune/test_schedule.py compares them). They live here because
importing `transformers.optimization` pulls in `transformers.trainer_utils`, which imports peft
whenever it is installed: about 1.9 s of every `finetune run`, for three one-line formulas.
"""

from __future__ import annotations

import math
from functools import partial

SCHEDULES = ("cosine", "linear", "constant")


def multiplier(name: str, step: int, warmup: int, total: int) -> float:
    """The factor applied to the peak learning rate after `step` optimizer steps."""
    if step < warmup:
        return float(step) / float(max(1, warmup))
    if name == "constant":
        return 1.0
    if name == "linear":
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    if name == "cosine":
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    raise _unknown(name)


def _unknown(name: str) -> ValueError:
    return ValueError(f"unknown schedule {name!r}: one of {', '.join(SCHEDULES)}")


def build_scheduler(name: str, optimizer, warmup: int, total: int):
    """A torch LambdaLR over `optimizer` following `multiplier`; its state saves and resumes with
    accelerate's checkpoints like any LambdaLR (a partial, as transformers' own schedules are)."""
    from torch.optim.lr_scheduler import LambdaLR

    if name not in SCHEDULES:  # before any step (the multiplier itself finds out only after warmup)
        raise _unknown(name)
    return LambdaLR(optimizer, partial(multiplier, name, warmup=warmup, total=total))
