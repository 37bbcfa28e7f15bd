"""Aliases (`name@stable`): the only mutable names, moved by appending numbered events.

Each move is a new event file claimed with put-if-absent, so two people moving the same alias
at once both succeed in some order, every move is logged, and the current target is the last event.
"""

from __future__ import annotations

from registry.errors import CommitConflictError, CorruptError
from registry.manifest import check_seal, now_iso, sealed
from registry.names import check_alias
from registry.storage import Store
from registry.store import as_store, dataset_dir, dumps, resolve

MAX_ATTEMPTS = 50


def alias_events(store: Store, name: str) -> list[dict]:
    folder = dataset_dir(store, name, "aliases")
    names = [n for n in store.listdir(folder) if n.endswith(".json") and n[:-5].isdigit()]
    return [read_event(store, f"{folder}/{n}", int(n[:-5])) for n in sorted(names)]


def read_event(store: Store, path: str, seq: int) -> dict:
    """One alias event, checked: well-formed, its own sequence number, seal intact; else CorruptError."""
    event = store.read_json(path)
    ok = (isinstance(event, dict) and event.get("seq") == seq and isinstance(event.get("alias"), str)
          and (event.get("version") is None or (isinstance(event.get("version"), int)
                                                and not isinstance(event.get("version"), bool))))
    if not ok:
        raise CorruptError(f"{path}: not a valid alias event (expected seq {seq}, an alias and a version number)")
    check_seal(event, path)
    return event


def current_aliases(store: Store, name: str) -> dict[str, int]:
    """alias -> version number, after replaying every move and removal in order."""
    out: dict[str, int] = {}
    for event in alias_events(store, name):
        if event.get("version") is None:
            out.pop(event["alias"], None)
        else:
            out[event["alias"]] = int(event["version"])
    return out


def set_alias(ref: str, alias: str, *, root=None, remove: bool = False) -> dict:
    """Point `alias` at the version `ref` names (or remove it); returns the logged event."""
    store = as_store(root)
    check_alias(alias)
    version = resolve(ref, root=store)
    folder = dataset_dir(store, version.name, "aliases")
    for _ in range(MAX_ATTEMPTS):
        events = alias_events(store, version.name)
        previous = current_aliases(store, version.name).get(alias)
        seq = (int(events[-1]["seq"]) + 1) if events else 1
        event = {"seq": seq, "alias": alias, "version": None if remove else version.number,
                 "previous": previous, "time": now_iso()}
        if store.put_if_absent(f"{folder}/{seq:08d}.json", dumps(sealed(event))):
            return event
    raise CommitConflictError(f"could not move alias {alias!r} of {version.name}: too many concurrent moves")
