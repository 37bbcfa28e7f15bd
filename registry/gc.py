"""`registry gc`: remove what no live version needs; never a version an alias names.

Two steps, dry-run first (DVC's `gc` and Lance's `cleanup_old_versions` both default to keeping
things unless told). (1) Optionally retire old versions beyond `keep_last` per dataset, except
the latest and every aliased one; their manifests move to `removed/` so numbers are never reused.
(2) Delete objects no live manifest references, and stale temporary files, once they are older
than a grace period. gc holds a gc lock for the whole run and starts only when no commit is in
flight (registry/leases.py), so an object a commit is about to reuse is never collected under it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from registry.errors import CorruptError
from registry.layers import layer_objects
from registry.leases import DEFAULT_WAIT_S, clear_stale, gc_lock
from registry.row_facts import facts_relpath
from registry.versions import current_aliases
from registry.versions import as_store, dataset_dir, dumps, list_datasets, list_versions, manifest_path

DEFAULT_GRACE_S = 3600


@dataclass
class GcPlan:
    versions: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    bytes: int = 0
    kept_for_alias: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"versions": self.versions, "objects": self.objects, "bytes": self.bytes,
                "kept_for_alias": self.kept_for_alias}


def _age_s(store, path: str, now: float) -> float | None:
    """Seconds since `path` was written; None when unknown; FileNotFoundError when it is gone."""
    info = store.fs.info(path)
    stamp = info.get("mtime") or info.get("created") or info.get("LastModified")
    if stamp is None:
        return None
    stamp = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
    return now - stamp


def gc(*, root=None, dry_run: bool = True, keep_last: int | None = None, grace_s: float = DEFAULT_GRACE_S,
       wait_s: float = DEFAULT_WAIT_S) -> GcPlan:
    """Plan (dry run) or carry out a collection; waits up to `wait_s` for commits in flight to finish."""
    store = as_store(root)
    if dry_run:
        return _collect(store, True, keep_last, grace_s)
    with gc_lock(store, wait_s=wait_s):
        clear_stale(store)  # leases of commits that were killed
        return _collect(store, False, keep_last, grace_s)


def _collect(store, dry_run: bool, keep_last: int | None, grace_s: float) -> GcPlan:
    plan, live = GcPlan(), set()

    def keep_alive(v) -> None:  # a kept version's shards, layout, facts and score layers
        live.update(s["path"] for s in v.manifest["shards"])
        live.add(v.manifest["layout"]["path"])
        try:
            live.add(facts_relpath(v.hash))
        except CorruptError:  # a manifest whose hash is no hash: no facts can be named by it
            pass
        live.update(layer_objects(v, root=store))

    for name in list_datasets(store):
        versions = list_versions(name, root=store)
        aliased = set(current_aliases(store, name).values())
        keep = {v.number for v in versions[-keep_last:]} if keep_last else {v.number for v in versions}
        for v in versions:
            if v.number in keep or v.number == versions[-1].number:
                keep_alive(v)
            elif v.number in aliased:
                plan.kept_for_alias.append(v.ref)
                keep_alive(v)
            else:
                plan.versions.append(v.ref)
                if not dry_run:
                    retire(store, v)
    now = time.time()
    prefix = store.root.rstrip("/")
    for path in store.fs.find(store.path("objects")):
        rel = path[len(prefix) + 1:] if path.startswith(prefix) else path
        if rel not in live:
            _remove_if_old(store, path, rel, now, grace_s, dry_run, plan)
    for path in store.fs.find(store.path("datasets")):
        # Temporary files a killed writer left beside manifests, alias events or answers.
        if path.rsplit("/", 1)[-1].startswith(".tmp-"):
            _remove_if_old(store, path, path[len(prefix) + 1:], now, grace_s, dry_run, plan)
    return plan


def _remove_if_old(store, path: str, rel: str, now: float, grace_s: float, dry_run: bool, plan: GcPlan) -> None:
    """Remove `path` once older than the grace period; a file that vanished since the listing is skipped
    (a temporary file its writer renamed or removed meanwhile)."""
    try:
        age = _age_s(store, path, now)
        if age is None or age < grace_s:
            return
        size = store.fs.size(path)
        if not dry_run:
            store.fs.rm(path)
    except FileNotFoundError:
        return
    plan.objects.append(rel)
    plan.bytes += size


def retire(store, version) -> None:
    """Move a version's manifest to `removed/` (kept for the log, no longer a root for objects)."""
    store.write_atomic(dataset_dir(store, version.name, "removed", f"{version.number:08d}.json"),
                       dumps(version.manifest))
    try:
        store.fs.rm(manifest_path(store, version.name, version.number))
    except FileNotFoundError:  # another gc retired it meanwhile
        pass
