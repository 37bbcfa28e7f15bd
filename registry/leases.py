"""Commit leases and gc locks: a commit and `registry gc` never overlap.

A commit may reuse an object that no published manifest references yet (a shard of a retired
version, or of a killed commit, holding exactly the rows it is about to store), and it reads the
shards of the versions it builds on; `gc` removes unreferenced objects and retires versions. So
the two take turns, like a readers-writer lock kept as files under ROOT/locks/:

- a commit writes `locks/commit-<id>.json` before it reads or reuses any object, then lists the
  gc locks; if one is live it withdraws its lease, waits for that gc to finish and starts over;
- gc writes `locks/gc-<id>.json`, then lists the commit leases and waits until none is live
  before it reads a manifest or deletes anything.

Each side writes its own file before it lists the other's, so at least one of them sees the
other (the store must list what was already written: local filesystems and S3 do). Many commits
run at once; gc runs alone. A holder that died without removing its file (kill -9) is ignored
once its process is gone (same host) or its file is older than STALE_S.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import uuid
from contextlib import contextmanager

from registry.errors import RegistryError

STALE_S = 3600.0
POLL_S = 0.05
DEFAULT_WAIT_S = 600.0


def _holder(kind: str) -> bytes:
    return json.dumps({"kind": kind, "pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}).encode()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(info: dict, now: float) -> bool:
    """True for a holder that can no longer be running: dead pid on this host, or older than STALE_S."""
    if now - float(info.get("time") or 0) > STALE_S:
        return True
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        return not _pid_alive(info["pid"])
    return False


def live_holders(store, kind: str) -> list[tuple[str, dict]]:
    """(path, holder) of every live lock file of `kind` ("commit" or "gc")."""
    folder, now, out = store.path("locks"), time.time(), []
    for name in store.listdir(folder):
        if not (name.startswith(kind + "-") and name.endswith(".json")):
            continue
        path = f"{folder}/{name}"
        try:
            info = json.loads(store.read_bytes(path))
        except (FileNotFoundError, ValueError):  # released meanwhile, or damaged (written whole, so not ours)
            continue
        if isinstance(info, dict) and not is_stale(info, now):
            out.append((path, info))
    return out


def clear_stale(store) -> list[str]:
    """Remove lock files whose holder is gone (a killed commit's lease); returns their paths."""
    folder, now, gone = store.path("locks"), time.time(), []
    for name in store.listdir(folder):
        path = f"{folder}/{name}"
        try:
            info = json.loads(store.read_bytes(path)) if name.endswith(".json") else {}
        except (FileNotFoundError, ValueError):
            continue
        if ".tmp-" in name or (isinstance(info, dict) and info.get("kind") == "commit" and is_stale(info, now)):
            _remove(store, path)
            gone.append(path)
    return gone


def describe(holder: tuple[str, dict]) -> str:
    path, info = holder
    return f"pid {info.get('pid')} on {info.get('host')}, {path}"


def notify(message: str) -> None:
    """A waiting notice on stderr (a command that waits says why)."""
    print(message, file=sys.stderr, flush=True)


def _remove(store, path: str) -> None:
    try:
        store.fs.rm(path)
    except FileNotFoundError:
        pass


def _gave_up(what: str, holder, wait_s: float) -> RegistryError:
    return RegistryError(f"gave up after {wait_s:g} s waiting for {what} ({describe(holder)}); retry later, or "
                         "delete that file if its process is gone")


@contextmanager
def commit_lease(store, *, wait_s: float = DEFAULT_WAIT_S):
    """Hold a commit lease for the body; waits while a gc runs."""
    path = store.path("locks", f"commit-{uuid.uuid4().hex}.json")
    deadline, told = time.monotonic() + wait_s, False
    while True:
        store.write_atomic(path, _holder("commit"))
        running = live_holders(store, "gc")
        if not running:
            break
        _remove(store, path)  # let the gc proceed
        if not told:
            notify(f"waiting for registry gc ({describe(running[0])}) to finish before committing")
            told = True
        if time.monotonic() > deadline:
            raise _gave_up("registry gc", running[0], wait_s)
        time.sleep(POLL_S)
    try:
        yield
    finally:
        _remove(store, path)


@contextmanager
def gc_lock(store, *, wait_s: float = DEFAULT_WAIT_S):
    """Hold a gc lock for the body, once every commit in flight has finished."""
    path = store.path("locks", f"gc-{uuid.uuid4().hex}.json")
    store.write_atomic(path, _holder("gc"))
    try:
        deadline, told = time.monotonic() + wait_s, False
        while True:
            commits = live_holders(store, "commit")
            if not commits:
                break
            if not told:
                notify(f"waiting for {len(commits)} commit(s) in flight ({describe(commits[0])}) to finish")
                told = True
            if time.monotonic() > deadline:
                raise _gave_up("a commit in flight", commits[0], wait_s)
            time.sleep(POLL_S)
        yield
    finally:
        _remove(store, path)
