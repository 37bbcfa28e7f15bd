"""The append-only "used by" log of a version (fine-tune runs and other consumers)."""

from __future__ import annotations

import uuid

from records.timestamps import iso_utc
from registry.manifest import Version
from registry.versions import as_store, dataset_dir, dumps, resolve


def record_use(ref, use: dict, *, root=None) -> None:
    """Append `use` (e.g. {"kind": "finetune", "output": ..., "model": ...}) to the version's side log.

    `ref` is a reference or a resolved Version (which stays writable after `gc` retires it, so a
    run that started on it can still record its end). Each entry is its own file, so concurrent
    writers never clash and the manifest stays immutable. Entries sharing a `run_id` are one use
    whose later entries (by `recorded`, then `seq`) update it: a run recorded as running at its
    start, finished at its end.
    """
    if not isinstance(use, dict):
        raise TypeError("use must be a dict")
    store = as_store(root)
    version = ref if isinstance(ref, Version) else resolve(ref, root=store)
    entry = {"recorded": iso_utc(), "version": version.ref, "hash": version.hash, **use}
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    stamp = entry["recorded"].replace(":", "").replace("-", "").replace("+", "Z")
    store.put_if_absent(f"{folder}/{stamp}-{uuid.uuid4().hex[:12]}.json", dumps(entry))


def list_uses(version, *, root=None) -> list[dict]:
    """Every recorded use of `version`, oldest first; entries of one `run_id` merged in order."""
    store = as_store(root)
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    uses: list[dict] = []
    runs: dict[str, dict] = {}
    entries = [store.read_json(f"{folder}/{n}") for n in store.listdir(folder) if n.endswith(".json")]
    # one-second stamps: `seq` orders a run's entries written within the same second
    for entry in sorted(entries, key=lambda e: (str(e.get("recorded", "")), e.get("seq", 0))):
        run_id = entry.get("run_id")
        if run_id in runs:
            runs[run_id].update({k: v for k, v in entry.items() if k != "recorded"})
            continue
        uses.append(entry)
        if run_id:
            runs[run_id] = entry
    return uses
