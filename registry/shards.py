"""Content-addressed Parquet shards and the run-length layout that orders a version's rows.

A version's rows are a sequence of runs (shard, start, length). A child version reuses its
parents' shards for every record they already hold and writes only new records, so an edit of
858 rows in 52,002 costs one small shard plus a few thousand runs, not a rewrite.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from records.hashing import bytes_hash, content_hash
from registry.fs import Store

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "statistics": False}
# The only object paths a manifest may name: nothing outside ROOT/objects, no `..`, no absolute path.
_OBJECT_PATH = re.compile(r"objects/([0-9a-f]{2})/(\1[0-9a-f]{62})(\.layout)?\.parquet")


def check_object_path(relpath, where: str) -> str:
    """`relpath` when it names an object inside the root, else CorruptError naming `where`."""
    from registry.errors import CorruptError

    if not isinstance(relpath, str) or not _OBJECT_PATH.fullmatch(relpath):
        raise CorruptError(f"{where}: refusing object path {relpath!r} (only objects/xx/<sha256>[.layout].parquet "
                           "inside the registry root may be read)")
    return relpath


@dataclass(frozen=True)
class ShardRef:
    """One shard as a manifest lists it."""

    hash: str
    rows: int
    bytes: int

    @property
    def relpath(self) -> str:
        return f"objects/{self.hash[:2]}/{self.hash}.parquet"

    def to_json(self) -> dict:
        return {"hash": self.hash, "rows": self.rows, "bytes": self.bytes, "path": self.relpath}


def frame_to_parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, **PARQUET_OPTIONS)
    return buf.getvalue()


def write_shard(store: Store, frame: pl.DataFrame, digests: Sequence[bytes]) -> tuple[ShardRef, int]:
    """Store `frame` as a shard named by its rows' content hash; returns (ref, bytes newly written)."""
    digest = content_hash(frame.columns, digests)
    data = frame_to_parquet(frame)
    ref = ShardRef(hash=digest, rows=frame.height, bytes=len(data))
    path = store.path(ref.relpath)
    if store.exists(path):
        return ShardRef(digest, frame.height, store.fs.size(path)), 0
    store.publish_object(path, data)
    return ref, len(data)


def read_object(store: Store, relpath: str) -> pl.DataFrame:
    """An object's rows; CorruptError when it is unsafe or unreadable, FileNotFoundError when missing."""
    from registry.errors import CorruptError

    path = store.path(check_object_path(relpath, relpath))
    data = store.read_bytes(path)
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - any undecodable object is corrupt
        raise CorruptError(f"{path}: unreadable object ({type(e).__name__}); run `selfinstruct registry verify`") \
            from None


def read_shard(store: Store, relpath: str) -> pl.DataFrame:
    return read_object(store, relpath)


def runs_from_locations(shard_idx: np.ndarray, row_idx: np.ndarray) -> np.ndarray:
    """Collapse per-row (shard, row) locations into runs of consecutive rows: an (n, 3) uint32 array."""
    if len(shard_idx) == 0:
        return np.zeros((0, 3), dtype=np.uint32)
    breaks = np.ones(len(shard_idx), dtype=bool)
    breaks[1:] = (shard_idx[1:] != shard_idx[:-1]) | (row_idx[1:] != row_idx[:-1] + 1)
    starts = np.flatnonzero(breaks)
    lengths = np.diff(np.append(starts, len(shard_idx)))
    return np.stack([shard_idx[starts], row_idx[starts], lengths], axis=1).astype(np.uint32)


def encode_layout(runs: np.ndarray) -> tuple[str, bytes]:
    """(hash, Parquet bytes) of a layout; the hash covers the integers, not the file bytes."""
    canonical = np.ascontiguousarray(runs, dtype="<u4").tobytes()
    frame = pl.DataFrame({"shard": runs[:, 0], "start": runs[:, 1], "length": runs[:, 2]},
                         schema={"shard": pl.UInt32, "start": pl.UInt32, "length": pl.UInt32})
    return bytes_hash(canonical), frame_to_parquet(frame)


def layout_relpath(digest: str) -> str:
    return f"objects/{digest[:2]}/{digest}.layout.parquet"


def read_layout(store: Store, relpath: str) -> np.ndarray:
    frame = read_object(store, relpath)
    if frame.height == 0:
        return np.zeros((0, 3), dtype=np.uint32)
    return np.stack([frame[c].to_numpy() for c in ("shard", "start", "length")], axis=1).astype(np.uint32)


def layout_hash(runs: np.ndarray) -> str:
    return bytes_hash(np.ascontiguousarray(runs, dtype="<u4").tobytes())


def assemble(shards: Sequence[pl.DataFrame], runs: np.ndarray, columns: Sequence[str]) -> pl.DataFrame:
    """The version's rows in order, gathered from its shards by the runs."""
    if len(runs) == 0:
        return shards[0].head(0).select(columns) if shards else pl.DataFrame(schema={c: pl.String for c in columns})
    if len(runs) == 1 or len(runs) <= len(shards):
        parts = [shards[s].slice(int(a), int(n)) for s, a, n in runs]
        return pl.concat(parts, how="vertical_relaxed", rechunk=True).select(columns)
    # Many runs: one gather per shard is faster than thousands of slices.
    offsets = np.cumsum([0] + [s.height for s in shards])
    starts = offsets[runs[:, 0].astype(np.int64)] + runs[:, 1].astype(np.int64)
    lengths = runs[:, 2].astype(np.int64)
    total = int(lengths.sum())
    run_of_row = np.repeat(np.arange(len(runs)), lengths)
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    idx = starts[run_of_row] + within
    return pl.concat(shards, how="vertical_relaxed", rechunk=False).select(columns)[idx]
