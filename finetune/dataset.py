"""Load instruction records from the registry (`NAME@V`) or from a local file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from records.errors import InputError
from records.files import read_frame, read_json_objects, read_parquet
from records.hashing import frame_hash
from records.refs import is_versioned_ref

REQUIRED = ("instruction", "output")


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
    """Records with instruction/input/output strings, and their source."""
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
        rows = frame.to_dicts()
        check_fields(rows, dataset, list(frame.columns))
        return normalise(rows), DatasetSource(version.ref, str(version.hash), True)
    path = Path(dataset)
    if not path.exists():
        raise ValueError(f"dataset {dataset!r} is neither a NAME@V reference nor an existing file")
    rows = read_file(path)
    check_fields(rows, str(path), list(rows[0]) if rows else [])
    return normalise(rows), DatasetSource(str(path), file_content_hash(path), False)


def read_file(path: Path) -> list[dict]:
    """JSON (a list), JSONL (one object a line) or Parquet; a malformed file is a ValueError naming it."""
    try:
        if path.suffix == ".parquet":
            return read_parquet(path).to_dicts()
        return [obj for _, obj in read_json_objects(path)]
    except InputError as exc:
        raise ValueError(str(exc)) from None


def check_fields(rows: list[dict], where: str, columns: list[str]) -> None:
    if not rows:
        raise ValueError(f"{where}: the dataset has no records")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ValueError(f"{where}: records lack the field(s) {', '.join(missing)} "
                         f"(found: {', '.join(columns)})")
    for n, row in enumerate(rows, 1):
        for f in REQUIRED:
            if not isinstance(row.get(f), str):
                raise ValueError(f"{where}: record {n}: field {f!r} is not a string")


def normalise(rows: list[dict]) -> list[dict]:
    return [{"instruction": r["instruction"], "input": r.get("input") or "",
             "output": r["output"]} for r in rows]


def file_content_hash(path: Path) -> str:
    """The dataset content hash of the file's records: the hash it gets as a registry version once
    imported, so a model card naming a file can be matched to the version made from that file
    (`sha256:<hash>`, the prefix marking a file source)."""
    try:
        return "sha256:" + frame_hash(read_frame(path))
    except InputError as exc:
        raise ValueError(str(exc)) from exc


def split_eval(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, eval indices): a seeded random hold-out of round(n * fraction) records."""
    import random

    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = round(n * fraction)
    return sorted(order[k:]), sorted(order[:k])
