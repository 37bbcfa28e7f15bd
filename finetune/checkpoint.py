"""Checkpoints for exact resume: accelerate's state (model, optimizer, scheduler, RNG of
every process) plus our step counter, which fixes the sampler position (the batch plan is a
function of the step).

A checkpoint is written into a temporary folder and renamed into place once complete, so
`checkpoints/step-N` either holds a whole checkpoint or does not exist. Its
finetune_state.json records the SHA-256 of every file; resuming verifies them, and
`resume_from=auto` falls back to the newest intact checkpoint with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

STATE_FILE = "finetune_state.json"
TMP_PREFIX = ".tmp-"

log = logging.getLogger(__name__)


class DamagedCheckpoint(ValueError):
    """A checkpoint whose state file is missing or unreadable, or whose files do not match their hashes."""


def checkpoint_dir(output: Path, step: int) -> Path:
    return output / "checkpoints" / f"step-{step:07d}"


def save_checkpoint(accelerator, output: Path, step: int, extra: dict, keep: int = 2) -> Path:
    """Write checkpoints/step-N atomically and keep only the newest `keep` checkpoints."""
    path = checkpoint_dir(output, step)
    tmp = path.with_name(TMP_PREFIX + path.name)  # the same name on every process: each saves its RNG there
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)  # left by a run killed while saving
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        state = {"step": step, **extra, "files": file_hashes(tmp)}
        _write_synced(tmp / STATE_FILE, json.dumps(state, indent=2))
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        for old in sorted((output / "checkpoints").glob("step-*"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return path


def file_hashes(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder` except the state file."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != STATE_FILE:
            out[p.relative_to(folder).as_posix()] = _sha256(p)
    return out


def verify_checkpoint(path: Path) -> dict:
    """The checkpoint's saved counters, or DamagedCheckpoint saying what is wrong."""
    state_file = path / STATE_FILE
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        raise DamagedCheckpoint(f"{path}: no {STATE_FILE} (not a finished checkpoint)") from None
    except (OSError, ValueError) as e:
        raise DamagedCheckpoint(f"{state_file}: unreadable ({e})") from None
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise DamagedCheckpoint(f"{state_file}: no step counter")
    for rel, digest in (state.get("files") or {}).items():
        f = path / rel
        if not f.is_file():
            raise DamagedCheckpoint(f"{path}: {rel} is missing")
        if _sha256(f) != digest:
            raise DamagedCheckpoint(f"{path}: {rel} does not match its recorded SHA-256 (damaged)")
    return state


def find_checkpoint(output: Path, resume_from: str) -> Path:
    """`auto`: the newest intact checkpoint under output/checkpoints (warning about each newer
    damaged one); otherwise the given directory, which must be intact."""
    if resume_from == "auto":
        found = sorted((output / "checkpoints").glob("step-*"), reverse=True)
        if not found:
            raise ValueError(f"resume_from=auto: no checkpoint under {output / 'checkpoints'}")
        for path in found:
            try:
                verify_checkpoint(path)
            except DamagedCheckpoint as e:
                log.warning("skipping a damaged checkpoint: %s", e)
                continue
            if path != found[0]:
                log.warning("resuming from %s, the newest intact checkpoint", path)
            return path
        raise ValueError(f"resume_from=auto: every checkpoint under {output / 'checkpoints'} is damaged")
    path = Path(resume_from)
    verify_checkpoint(path)
    return path


def load_checkpoint(accelerator, path: Path) -> dict:
    """Restore accelerate's state; return our saved counters ({"step": N, ...})."""
    accelerator.load_state(str(path))
    return json.loads((path / STATE_FILE).read_text())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
