"""Aliases (`name@stable`): the only mutable names, moved by appending numbered events.

Each move is a new event file claimed with put-if-absent, so two people moving the same alias
at once both succeed in some order, every move is logged, and the current target is the last event.
Reading them (`current_aliases`, `alias_events`) is part of resolving a reference, in versions.py.
"""

from __future__ import annotations

from registry.errors import CommitConflictError
from records.timestamps import iso_utc
from registry.manifest import sealed
from registry.names import check_alias
from registry.versions import alias_events, as_store, current_aliases, dataset_dir, dumps, resolve

MAX_ATTEMPTS = 50


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
                 "previous": previous, "time": iso_utc()}
        if store.put_if_absent(f"{folder}/{seq:08d}.json", dumps(sealed(event))):
            return event
    raise CommitConflictError(f"could not move alias {alias!r} of {version.name}: too many concurrent moves")
