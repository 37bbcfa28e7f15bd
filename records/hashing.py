"""Identity from canonical rows, never from Parquet bytes: the record hash and the dataset content hash.

A registry version, a shard and a file given to finetune all get their identity here, so a model
card's dataset hash can be matched to the registry version it trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import polars as pl

FORMAT_TAG = b"selfinstruct-registry/1\n"
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str).encode


def row_digests(frame: pl.DataFrame) -> list[bytes]:
    """SHA-256 of each row's canonical JSON (sorted keys, compact, UTF-8): the record hash."""
    if frame.width and all(t in (pl.String, pl.Null) for t in frame.dtypes):
        # Text-only rows (the usual case): polars encodes the JSON several times faster, byte for byte
        # what json.dumps gives for text and null (tests/registry/test_hashing.py compares the two).
        encoded = frame.select(pl.struct(sorted(frame.columns)).struct.json_encode()).to_series().to_list()
        sha = hashlib.sha256
        return [sha(e.encode()).digest() for e in encoded]
    return row_digests_python(frame)


def row_digests_python(frame: pl.DataFrame) -> list[bytes]:
    """row_digests through Python's json module: the definition, for any column types."""
    names = frame.columns
    columns = [frame.get_column(n).to_list() for n in names]
    sha = hashlib.sha256
    return [sha(_encode(dict(zip(names, values))).encode()).digest() for values in zip(*columns)]


def content_hash(columns: Sequence[str], digests: Sequence[bytes]) -> str:
    """Hex SHA-256 over the column names and the row digests in order: a version's (or shard's) identity."""
    h = hashlib.sha256(FORMAT_TAG)
    h.update(_encode(list(columns)).encode() + b"\n")
    for d in digests:
        h.update(d)
    return h.hexdigest()


def frame_hash(frame: pl.DataFrame) -> str:
    """The content hash a version holding exactly `frame` (columns and row order) has."""
    return content_hash(frame.columns, row_digests(frame))


def bytes_hash(data: bytes) -> str:
    """Hex SHA-256 of raw bytes (layout objects, whose identity is their integers)."""
    return hashlib.sha256(data).hexdigest()
