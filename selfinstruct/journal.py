"""The run directory's append-only journal: every request, every raw response, every decision.

One JSON object per line, flushed after each write so that a kill -9 loses at most the line being
written (a torn last line is cut off on the next open). Responses are the source of truth: on
resume, and in `--backend replay`, decisions are recomputed from them in journal order, so a rerun
never requests a response already received and never keeps a record twice. No API key is ever
passed in here.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

JOURNAL = "journal.jsonl"
FSYNC_EVERY_S = 1.0  # flush() already survives a killed process; fsync guards against power loss


@dataclass
class JournalState:
    """What a journal holds: the run's first config, requests and responses in order."""

    starts: list[dict] = field(default_factory=list)
    requests: dict[int, dict] = field(default_factory=dict)
    responses: list[dict] = field(default_factory=list)  # in the order they arrived

    @property
    def unanswered(self) -> list[dict]:
        answered = {r["id"] for r in self.responses}
        return [req for rid, req in sorted(self.requests.items()) if rid not in answered]

    @property
    def next_request_id(self) -> int:
        return max(self.requests, default=-1) + 1


class Journal:
    """Append-only JSONL writer for one run directory."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / JOURNAL
        self.state = read_journal(self.path, repair=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, event: str, **payload) -> None:
        payload = {"time": time.time(), **payload}
        line = json.dumps({"event": event, **payload}, ensure_ascii=False)
        self._file.write(line + "\n")
        self._file.flush()
        if time.monotonic() - self._synced > FSYNC_EVERY_S:
            os.fsync(self._file.fileno())
            self._synced = time.monotonic()
        if event == "request":
            self.state.requests[payload["id"]] = payload
        elif event == "response":
            self.state.responses.append(payload)
        elif event == "start":
            self.state.starts.append(payload)

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()


def read_journal(path: str | Path, *, repair: bool = False) -> JournalState:
    """Parse a journal. A torn final line (killed mid-write) is ignored, and cut off when `repair`."""
    path = Path(path)
    state = JournalState()
    if not path.exists():
        return state
    good_bytes = 0
    with open(path, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                break
            good_bytes += len(raw)
            kind = entry.pop("event", None)
            if kind == "request":
                state.requests[entry["id"]] = entry
            elif kind == "response":
                state.responses.append(entry)
            elif kind == "start":
                state.starts.append(entry)
    if repair and good_bytes < path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
    return state
