"""`registry gc`: remove what no live version needs; never a version an alias names.

Two steps, dry-run first (DVC's `gc` and Lance's `cleanup_old_versions` both default to keeping
things unless told). (1) Optionally retire old versions beyond `keep_last` per dataset, except
the latest and every aliased one; their manifests move to `removed/` so numbers are never reused.
(2) Delete objects no live manifest references, and stale temporary files, once they are older
than a grace period, so shards of a commit still in flight are never collected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from registry.aliases import current_aliases
from registry.store import as_store, dataset_dir, dumps, list_datasets, list_versions, manifest_path

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
    info = store.fs.info(path)
    stamp = info.get("mtime") or info.get("created") or info.get("LastModified")
    if stamp is None:
        return None
    stamp = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp)
    return now - stamp


def gc(*, root=None, dry_run: bool = True, keep_last: int | None = None, grace_s: float = DEFAULT_GRACE_S) -> GcPlan:
    store = as_store(root)
    plan, live = GcPlan(), set()
    for name in list_datasets(store):
        versions = list_versions(name, root=store)
        aliased = set(current_aliases(store, name).values())
        keep = {v.number for v in versions[-keep_last:]} if keep_last else {v.number for v in versions}
        for v in versions:
            if v.number in keep or v.number == versions[-1].number:
                live.update(s["path"] for s in v.manifest["shards"])
                live.add(v.manifest["layout"]["path"])
            elif v.number in aliased:
                plan.kept_for_alias.append(v.ref)
                live.update(s["path"] for s in v.manifest["shards"])
                live.add(v.manifest["layout"]["path"])
            else:
                plan.versions.append(v.ref)
                if not dry_run:
                    retire(store, v)
    now = time.time()
    objects_root = store.path("objects")
    for path in store.fs.find(objects_root):
        rel = path[len(store.root.rstrip("/")) + 1:] if path.startswith(store.root.rstrip("/")) else path
        if rel in live:
            continue
        age = _age_s(store, path, now)
        if age is None or age < grace_s:
            continue
        plan.objects.append(rel)
        plan.bytes += store.fs.size(path)
        if not dry_run:
            store.fs.rm(path)
    for path in store.fs.find(store.path("datasets")):
        # Temporary files a killed writer left beside manifests, alias events or answers.
        if path.rsplit("/", 1)[-1].startswith(".tmp-") and (_age_s(store, path, now) or 0) >= grace_s:
            plan.objects.append(path[len(store.root.rstrip("/")) + 1:])
            plan.bytes += store.fs.size(path)
            if not dry_run:
                store.fs.rm(path)
    return plan


def retire(store, version) -> None:
    """Move a version's manifest to `removed/` (kept for the log, no longer a root for objects)."""
    store.write_atomic(dataset_dir(store, version.name, "removed", f"{version.number:08d}.json"),
                       dumps(version.manifest))
    store.fs.rm(manifest_path(store, version.name, version.number))
