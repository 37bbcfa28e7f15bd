"""The append-only "used by" log of a version (fine-tune runs and other consumers)."""

from __future__ import annotations

import uuid

from registry.manifest import now_iso
from registry.store import as_store, dataset_dir, dumps, resolve


def record_use(ref: str, use: dict, *, root=None) -> None:
    """Append `use` (e.g. {"kind": "finetune", "output": ..., "model": ...}) to the version's side log.

    Each entry is its own file, so concurrent writers never clash and the manifest stays immutable.
    """
    if not isinstance(use, dict):
        raise TypeError("use must be a dict")
    store = as_store(root)
    version = resolve(ref, root=store)
    entry = {"recorded": now_iso(), "version": version.ref, "hash": version.hash, **use}
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    stamp = entry["recorded"].replace(":", "").replace("-", "").replace("+", "Z")
    store.put_if_absent(f"{folder}/{stamp}-{uuid.uuid4().hex[:12]}.json", dumps(entry))


def list_uses(version, *, root=None) -> list[dict]:
    """Every recorded use of `version`, oldest first."""
    store = as_store(root)
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    return [store.read_json(f"{folder}/{n}") for n in store.listdir(folder) if n.endswith(".json")]
