"""Re-serve a run's recorded responses: re-sieve paid-for output with new settings, at no cost."""

from __future__ import annotations

from pathlib import Path

from selfinstruct.errors import SelfInstructError
from selfinstruct.journal import JOURNAL, JournalState, read_journal


def read_recorded_run(run_dir: str | Path) -> JournalState:
    """The journal of an earlier run: its start events (model, endpoint) and responses in arrival order."""
    path = Path(run_dir) / JOURNAL
    if not path.exists():
        raise SelfInstructError(f"{path}: no journal to replay (is --run-dir the directory of an earlier run?)")
    return read_journal(path)
