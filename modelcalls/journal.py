"""The run directory's append-only journal: every request, every raw response, every decision.

One JSON object per line, flushed after each write so that a kill -9 loses at most the line being
written (a torn last line is cut off on the next open). Responses are the source of truth: on
resume, and in `--backend replay`, decisions are recomputed from them in journal order, so a rerun
never requests a response already received and never keeps a record twice. No API key is ever
passed in here.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from modelcalls.errors import JournalWriteFailed, RunDirError, RunLocked
from records.errors import InputError

JOURNAL = "journal.jsonl"
LOCK = "run.lock"


class JournalError(InputError):
    """A journal line that is not the torn last one is unreadable: nothing is cut, the run stops."""


BATCH_EVENTS = {"batch_file": "batch_files", "batch": "batches", "batch_end": "batch_ends"}
BATCH_KEYS = {"batch_file": "file_id", "batch": "batch_id", "batch_end": "batch_id"}
FSYNC_EVERY_S = 1.0  # flush() already survives a killed process; fsync guards against power loss


@dataclass
class JournalState:
    """What a journal holds: the run's first config, requests and responses in order, and the Batch
    API's files and batches (`modelcalls/batch.py`), each keyed by its id."""

    starts: list[dict] = field(default_factory=list)
    requests: dict[int, dict] = field(default_factory=dict)
    responses: list[dict] = field(default_factory=list)  # in the order they arrived
    batch_files: dict[str, dict] = field(default_factory=dict)  # "batch_file": an uploaded input file
    batches: dict[str, dict] = field(default_factory=dict)  # "batch": a batch created from one
    batch_ends: dict[str, dict] = field(default_factory=dict)  # "batch_end": a batch whose results are journaled

    def apply(self, kind: str | None, entry: dict) -> None:
        """Take one journal entry (without its "event" key) into the state."""
        if kind == "request":
            self.requests[entry["id"]] = entry
        elif kind == "response":
            self.responses.append(entry)
        elif kind == "start":
            self.starts.append(entry)
        elif kind in BATCH_EVENTS:
            getattr(self, BATCH_EVENTS[kind])[entry[BATCH_KEYS[kind]]] = entry

    @property
    def unanswered(self) -> list[dict]:
        answered = {r["id"] for r in self.responses}
        return [req for rid, req in sorted(self.requests.items()) if rid not in answered]

    @property
    def next_request_id(self) -> int:
        return max(self.requests, default=-1) + 1


class Journal:
    """Append-only JSONL writer for one run directory."""

    def __init__(self, run_dir: str | Path, *, salvage: bool = False):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / JOURNAL
        self._lock = lock_run_dir(self.run_dir)
        try:
            self.state = read_journal(self.path, repair=True, salvage=salvage)
        except BaseException:
            self._lock.close()
            raise
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size
        self.broken = False
        self._synced = time.monotonic()

    def write(self, event: str, **payload) -> None:
        """Append one line, unbuffered. A failed write (a full disk) cuts the partial line off and
        refuses later writes, so the file stays a valid journal to resume from."""
        if self.broken:
            raise JournalWriteFailed(f"{self.path}: the journal can no longer be written (an earlier write failed)")
        payload = {"time": time.time(), **payload}
        line = json.dumps({"event": event, **payload}, ensure_ascii=False)
        # a lone surrogate (invalid in UTF-8) is written as its JSON escape, which reads back the same
        data = (line + "\n").encode("utf-8", "backslashreplace")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]
            # a batch's file and id are synced at once: lost to a power cut, they would be paid for again
            if event in BATCH_EVENTS or time.monotonic() - self._synced > FSYNC_EVERY_S:
                os.fsync(self._fd)
                self._synced = time.monotonic()
        except OSError as e:
            self.broken = True
            try:
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass  # a torn last line is cut on the next open anyway
            raise JournalWriteFailed(
                f"{self.path}: could not append to the journal ({e.strerror or e}); every response journaled "
                "before it is kept: free space and run the same command to resume") from None
        self._size += len(data)
        self.state.apply(event, payload)

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
        if not self._lock.closed:
            self._lock.close()  # closing the descriptor releases the flock


def check_resumable(state: JournalState, identity: dict, path: Path, *, keys: tuple[str, ...], kind: str,
                    advice: str, defaults: dict | None = None) -> None:
    """A journal may be resumed only by the same run: every key of `identity` named in `keys` must
    match the first start's (`defaults` stand in for keys that older journals lack)."""
    if not state.starts:
        return
    first, defaults = state.starts[0], defaults or {}
    config = first.get("config") if isinstance(first.get("config"), dict) else {}

    def journaled(key):  # older journals lack some keys: their journaled config, then `defaults`
        return first[key] if key in first else config.get(key, defaults.get(key))

    changed = [k for k in keys if journaled(k) != identity.get(k)]
    if changed:
        shown = ", ".join(f"{k} ({_short(journaled(k))} in the journal, {_short(identity.get(k))} now)" for k in changed)
        raise RunDirError(f"{path} belongs to {kind} with a different {shown}; {advice}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:12] + "..."


def open_run(run_dir: str | Path, identity: dict, backend, *, keys: tuple[str, ...], kind: str, advice: str,
             defaults: dict | None = None, salvage: bool = False, **start) -> Journal:
    """Open a run's journal for writing: refuse one that belongs to another run (closing it again),
    then journal this session's start with `identity`, `start` and where `backend` sends requests."""
    journal = Journal(run_dir, salvage=salvage)
    try:
        check_resumable(journal.state, identity, journal.path, keys=keys, kind=kind, advice=advice,
                        defaults=defaults)
    except BaseException:
        journal.close()
        raise
    journal.write("start", **identity, **start, backend=backend.name, provider=backend.provider,
                  endpoint_host=backend.endpoint_host)
    return journal


def lock_run_dir(run_dir: Path):
    """Hold an exclusive flock on RUN_DIR/run.lock for this process's life; refuse if taken."""
    f = open(run_dir / LOCK, "a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "unknown"
        f.close()
        raise RunLocked(f"{run_dir}: another generate (pid {holder}) is using this run directory") from None
    f.truncate(0)
    f.write(str(os.getpid()))
    f.flush()
    return f


def _parse_line(raw: bytes, requests: dict) -> dict:
    """One journal entry, or ValueError saying why the line is unusable."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg})") from None
    if not isinstance(entry, dict):
        raise ValueError(f"valid JSON but not an object ({type(entry).__name__})")
    if entry.get("event") == "response" and entry.get("id") not in requests:
        raise ValueError(f"response to unknown request id {entry.get('id')!r}")
    if entry.get("event") == "request" and not isinstance(entry.get("id"), int):
        raise ValueError("request without an integer id")
    if entry.get("event") in BATCH_EVENTS and not isinstance(entry.get(BATCH_KEYS[entry["event"]]), str):
        raise ValueError(f"{entry['event']} without a {BATCH_KEYS[entry['event']]}")
    return entry


def read_recorded_run(run_dir: str | Path) -> JournalState:
    """The journal of an earlier run, for `--backend replay`: its start events (model, endpoint) and
    responses in arrival order. Replay re-sieves paid-for output with new settings at no cost."""
    path = Path(run_dir) / JOURNAL
    if not path.exists():
        raise RunDirError(f"{path}: no journal to replay (is --run-dir the directory of an earlier run?)")
    return read_journal(path)


def read_journal(path: str | Path, *, repair: bool = False, salvage: bool = False) -> JournalState:
    """Parse a journal. A torn final line (killed mid-write) is ignored, and cut off when `repair`.

    Any other unreadable line raises JournalError naming the file and line, and leaves the file as
    it is; with `salvage`, bad lines are moved to journal.jsonl.bad (appended) beside the journal and
    the journal is rewritten with every good line, in order.
    """
    path = Path(path)
    state = JournalState()
    if not path.exists():
        return state
    with open(path, "rb") as f:
        lines = f.readlines()
    torn = bool(lines) and not lines[-1].endswith(b"\n")
    good: list[bytes] = []
    bad: list[bytes] = []
    for number, raw in enumerate(lines[:-1] if torn else lines, start=1):
        try:
            entry = _parse_line(raw, state.requests)
        except ValueError as e:
            if not salvage:
                raise JournalError(str(path), f"{e}; nothing was changed. Rerun with --salvage to move "
                                   "bad lines aside and keep every good response", line=number) from None
            bad.append(raw)
            continue
        good.append(raw)
        state.apply(entry.pop("event", None), entry)
    if bad:
        with open(path.with_name(path.name + ".bad"), "ab") as f:
            f.writelines(bad)
            f.flush()
            os.fsync(f.fileno())
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.writelines(good)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    elif repair and torn:
        with open(path, "r+b") as f:
            f.truncate(sum(len(x) for x in good))
    return state
