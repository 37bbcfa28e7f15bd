"""Re-serve a run's recorded responses: re-sieve paid-for output with new settings, at no cost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from selfinstruct.errors import SelfInstructError
from selfinstruct.journal import JOURNAL, read_journal


def replay_responses(run_dir: str | Path) -> Iterator[tuple[dict, dict]]:
    """(request, response) pairs in the order the responses arrived."""
    path = Path(run_dir) / JOURNAL
    if not path.exists():
        raise SelfInstructError(f"{path}: no journal to replay (is --run-dir the directory of an earlier run?)")
    state = read_journal(path)
    for response in state.responses:
        yield state.requests[response["id"]], response


def recorded_identity(run_dir: str | Path) -> dict:
    """The model, prompt and seeds the recorded run used (from its first start event)."""
    state = read_journal(Path(run_dir) / JOURNAL)
    return state.starts[0] if state.starts else {}
