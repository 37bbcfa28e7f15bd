"""Checkpoints for exact resume: accelerate's state (model, optimizer, scheduler, RNG of
every process) plus our step counter, which fixes the sampler position (the batch plan is a
function of the step)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

STATE_FILE = "finetune_state.json"


def checkpoint_dir(output: Path, step: int) -> Path:
    return output / "checkpoints" / f"step-{step:07d}"


def save_checkpoint(accelerator, output: Path, step: int, extra: dict, keep: int = 1) -> Path:
    """Write checkpoints/step-N and keep only the newest `keep` checkpoints."""
    path = checkpoint_dir(output, step)
    accelerator.save_state(str(path))
    if accelerator.is_main_process:
        (path / STATE_FILE).write_text(json.dumps({"step": step, **extra}, indent=2))
        for old in sorted((output / "checkpoints").glob("step-*"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return path


def find_checkpoint(output: Path, resume_from: str) -> Path:
    """`auto`: the newest checkpoint under output/checkpoints; otherwise the given directory."""
    if resume_from == "auto":
        found = sorted((output / "checkpoints").glob("step-*"))
        if not found:
            raise ValueError(f"resume_from=auto: no checkpoint under {output / 'checkpoints'}")
        return found[-1]
    path = Path(resume_from)
    if not (path / STATE_FILE).exists():
        raise ValueError(f"{path}: not a finetune checkpoint (no {STATE_FILE})")
    return path


def load_checkpoint(accelerator, path: Path) -> dict:
    """Restore accelerate's state; return our saved counters ({"step": N, ...})."""
    accelerator.load_state(str(path))
    return json.loads((path / STATE_FILE).read_text())
