"""Load instruction records from the registry (`NAME@V`) or from a local file.

Files (JSON, JSON Lines, Parquet, CSV) are read and registry versions checked by `records.files`,
the one validator of the project, so a bad record is named by file (or version), line and field.
The one rule that is finetune's own: a dataset with no records cannot be trained on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from records.conversations import SYSTEM_FIELD
from records.errors import InputError
from records.files import check_columns, read_frame
from records.hashing import frame_hash
from records.refs import is_versioned_ref
from records.schema import RECORD_FIELDS


@dataclass
class DatasetSource:
    """Where the records came from: `ref` is `name@N` for registry versions, else the path."""

    ref: str
    content_hash: str
    from_registry: bool


def is_registry_ref(dataset: str) -> bool:
    """`name@3`, `name@latest`, `name@stable`, `name@3f2a9c`, unless a file has that name."""
    return is_versioned_ref(dataset) and not Path(dataset).exists()


def registry_root(root: str | None) -> str | None:
    return root or os.environ.get("SELFINSTRUCT_REGISTRY") or None


def load_records(dataset: str, root: str | None = None) -> tuple[list[dict], DatasetSource]:
    """Records with instruction/input/output strings, and their source; bad input is a ValueError
    carrying the InputError's one line (file or version, line, field)."""
    if is_registry_ref(dataset):
        import registry

        root = registry_root(root)
        try:
            version = registry.resolve(dataset, root=root)
            # Open the resolved number, so `name@latest` cannot move between the two calls.
            frame = registry.open(version.ref, root=root)
        except registry.RegistryError as exc:  # its message names the reference and what exists
            raise ValueError(str(exc)) from None
        except (KeyError, FileNotFoundError, LookupError) as exc:
            raise ValueError(f"{dataset}: cannot be opened ({exc})") from None
        try:
            frame = check_columns(version.ref, frame, first_line=1)
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return to_records(frame, version.ref), DatasetSource(version.ref, str(version.hash), True)
    path = Path(dataset)
    if not path.exists():
        raise ValueError(f"dataset {dataset!r} is neither a NAME@V reference nor an existing file")
    frame = read_file(path)
    return to_records(frame, str(path)), DatasetSource(str(path), _file_hash(frame), False)


def to_records(frame, where: str) -> list[dict]:
    """The validated frame's instruction, input and output (and `system`, which a chat template
    uses, when the dataset has one) as dicts; no records is a ValueError."""
    if frame.height == 0:
        raise ValueError(f"{where}: the dataset has no records")
    system = [SYSTEM_FIELD] if SYSTEM_FIELD in frame.columns and frame.schema[SYSTEM_FIELD] == pl.String else []
    return frame.select([*RECORD_FIELDS, *system]).to_dicts()


def file_content_hash(path: Path) -> str:
    """The dataset content hash of the file's records: the hash it gets as a registry version once
    imported, so a model card naming a file can be matched to the version made from that file
    (`sha256:<hash>`, the prefix marking a file source)."""
    return _file_hash(read_file(path))


def read_file(path: Path):
    """A JSON, JSON Lines, Parquet or CSV file as a validated frame; a bad file is a ValueError
    carrying the InputError's one line (file, line, field)."""
    try:
        return read_frame(path)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _file_hash(frame) -> str:
    return "sha256:" + frame_hash(frame)


def split_eval(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, eval indices): a seeded random hold-out of round(n * fraction) records."""
    import random

    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = round(n * fraction)
    return sorted(order[k:]), sorted(order[:k])
