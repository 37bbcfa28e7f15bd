"""Write side: commit a frame as the next version of a dataset, whole or not at all.

Order of writes: shards, then the layout, then the manifest with put-if-absent. Objects are
content-addressed and harmless when orphaned, so a process killed at any point leaves either no
new version or a complete one; the manifest's name claims the version number, so two committers
racing for the same number end with distinct numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from records.hashing import content_hash, row_digests
from records.lineage import Lineage
from records.schema import RECORD_FIELDS
from records.timestamps import iso_utc
from registry.errors import CommitConflictError, RegistryError
from registry.leases import commit_lease
from registry.manifest import FORMAT, Version, sealed, software_versions, version_from_manifest
from records.redact import redact  # credentials never enter manifests
from registry.fs import Store
from registry.names import check_name
from registry.shards import ShardRef, encode_layout, layout_relpath, read_shard, runs_from_locations, write_shard
from registry.versions import as_store, dumps, manifest_path, read_version, resolve, version_numbers

DEFAULT_SHARD_ROWS = 100_000
MAX_ATTEMPTS = 100


def check_committable(name: str, root: str | Store | None = None) -> None:
    """Before long work whose result becomes a version of `name`: the name is valid, the root opens
    and, on a local disk, can be written (a RegistryError saying which). Object stores are checked
    at the commit itself, where their conditional writes are probed."""
    from records.errors import InputError
    from records.files import check_writable

    check_name(name)
    store = as_store(root)
    if store.is_local:
        try:
            check_writable(store.path("datasets"), folder=True)
        except InputError as e:
            raise RegistryError(f"registry root {store.url} cannot be written: {e.message}") from None


def commit(frame: pl.DataFrame, *, name: str, lineage: Lineage | dict, parents: Sequence[str] = (),
           root=None, shard_rows: int = DEFAULT_SHARD_ROWS) -> Version:
    """Store `frame` as the next version of `name` with `lineage` (a Lineage, or its stored form as
    a dict, written back key for key); returns the new Version."""
    store = as_store(root)
    check_name(name)
    frame = check_frame(frame)
    if isinstance(lineage, dict):
        lineage = Lineage.from_dict(lineage)
    if not isinstance(lineage, Lineage):
        raise RegistryError("lineage must be a Lineage or a dict (see docs/registry.md for its fields)")
    store.require_conditional_writes()  # before any object is written
    with commit_lease(store):  # gc waits for it, so reused objects stay until the manifest names them
        return _commit(store, frame, name, lineage, parents, shard_rows)


def _commit(store: Store, frame: pl.DataFrame, name: str, lineage: Lineage, parents: Sequence[str],
            shard_rows: int) -> Version:
    parent_versions = [resolve(p, root=store) for p in parents]
    digests = row_digests(frame)
    version_hash = content_hash(frame.columns, digests)  # == frame_hash(frame), digests reused below

    bases = list(parent_versions)
    numbers = version_numbers(store, name)
    if numbers:
        bases.append(read_version(store, name, numbers[-1]))
    index, base_shards = index_base_rows(store, bases)
    shard_list, runs, added = place_rows(store, frame, digests, index, base_shards, shard_rows)
    layout_digest, layout_bytes = encode_layout(runs)
    if store.publish_object(store.path(layout_relpath(layout_digest)), layout_bytes):
        added += len(layout_bytes)

    manifest = {
        "format": FORMAT,
        "name": name,
        "number": None,
        "hash": version_hash,
        "created": iso_utc(),
        "rows": frame.height,
        "columns": frame.columns,
        "schema": {c: str(t) for c, t in frame.schema.items()},
        "parents": [{"ref": p.ref, "hash": p.hash} for p in parent_versions],
        "lineage": redact(lineage.to_dict()),
        "software": software_versions(),
        "shards": [s.to_json() for s in shard_list],
        "layout": {"hash": layout_digest, "path": layout_relpath(layout_digest), "runs": int(len(runs))},
        "storage": {"bytes_added": added, "bytes_referenced": sum(s.bytes for s in shard_list)},
    }
    return publish_manifest(store, manifest)


def check_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with the required text columns, or a RegistryError naming the column at fault."""
    if not isinstance(frame, pl.DataFrame):
        raise RegistryError(f"commit expects a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in RECORD_FIELDS if c not in frame.columns]
    if missing:
        raise RegistryError(f"frame lacks required column(s) {missing}; it has {frame.columns}")
    for c in RECORD_FIELDS:
        if frame.schema[c] not in (pl.String, pl.Null):
            raise RegistryError(f"column {c!r} must hold text, got {frame.schema[c]}")
    return frame.with_columns([pl.col(c).cast(pl.String) for c in RECORD_FIELDS])


def index_base_rows(store: Store, bases: Sequence[Version]) -> tuple[dict[bytes, tuple[int, int]], list[ShardRef]]:
    """record digest -> (position in base shard list, row) for every row of the bases' shards."""
    index: dict[bytes, tuple[int, int]] = {}
    shards: list[ShardRef] = []
    seen: set[str] = set()
    for version in bases:
        for entry in version.manifest["shards"]:
            if entry["hash"] in seen:
                continue
            seen.add(entry["hash"])
            pos = len(shards)
            shards.append(ShardRef(entry["hash"], int(entry["rows"]), int(entry["bytes"])))
            for row, d in enumerate(row_digests(read_shard(store, entry["path"]))):
                index.setdefault(d, (pos, row))
    return index, shards


def place_rows(store, frame, digests, index, base_shards, shard_rows):
    """Locate every row in a reused shard or in new shards; returns (shards used, runs, bytes written)."""
    n = len(digests)
    where_shard = np.empty(n, dtype=np.int64)
    where_row = np.empty(n, dtype=np.int64)
    new_rows: list[int] = []
    new_pos: dict[bytes, int] = {}
    for i, d in enumerate(digests):
        loc = index.get(d)
        if loc is None:
            k = new_pos.get(d)
            if k is None:
                k = new_pos[d] = len(new_rows)
                new_rows.append(i)
            where_shard[i], where_row[i] = -1 - (k // shard_rows), k % shard_rows
        else:
            where_shard[i], where_row[i] = loc
    added = 0
    new_refs: list[ShardRef] = []
    for start in range(0, len(new_rows), shard_rows):
        idx = new_rows[start:start + shard_rows]
        ref, written = write_shard(store, frame[idx], [digests[i] for i in idx])
        new_refs.append(ref)
        added += written
    # Renumber shards by first use so the manifest lists only what the version reads.
    candidates = {**{p: s for p, s in enumerate(base_shards)}, **{-1 - j: s for j, s in enumerate(new_refs)}}
    if n == 0:
        return [], runs_from_locations(where_shard, where_row), added
    keys, first, inverse = np.unique(where_shard, return_index=True, return_inverse=True)
    by_first_use = np.argsort(first)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[by_first_use] = np.arange(len(keys))
    mapped = rank[inverse.ravel()]
    shard_list = [candidates[int(k)] for k in keys[by_first_use]]
    return shard_list, runs_from_locations(mapped, where_row), added


def publish_manifest(store: Store, manifest: dict) -> Version:
    """Claim the next free version number with put-if-absent, retrying past concurrent committers."""
    name = manifest["name"]
    for _ in range(MAX_ATTEMPTS):
        numbers = version_numbers(store, name, include_removed=True)
        manifest["number"] = (numbers[-1] + 1) if numbers else 1
        stored = sealed(manifest)  # the seal covers lineage, licence, parents and the number
        if store.put_if_absent(manifest_path(store, name, manifest["number"]), dumps(stored)):
            return version_from_manifest(stored)
    raise CommitConflictError(
        f"could not commit {name}: {MAX_ATTEMPTS} concurrent commits took every version number tried; retry"
    )


