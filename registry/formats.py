"""Read instruction records from Alpaca JSON, JSON Lines, Parquet or CSV, refusing malformed ones.

Every error names the file, the 1-based line (or row) and the field, and nothing is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from registry.errors import ImportFormatError
from registry.manifest import REQUIRED_COLUMNS

FORMATS = ("auto", "alpaca-json", "jsonl", "parquet", "csv")


def read_records(path: str | Path, fmt: str = "auto") -> pl.DataFrame:
    """Records of `path` as a frame with instruction, input, output first (missing input = "")."""
    path = Path(path)
    if not path.exists():
        raise ImportFormatError(str(path), "no such file")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("alpaca-json", "jsonl"):
        return records_to_frame(path, list(iter_json_records(path)))
    if fmt == "parquet":
        frame = _read_parquet(path)
        return check_columns(path, frame, first_line=1, what="row")
    if fmt == "csv":
        frame = pl.read_csv(path, infer_schema=False, empty_string_is_null=False)
        return check_columns(path, frame, first_line=2, what="line")
    raise ImportFormatError(str(path), f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _read_parquet(path: Path) -> pl.DataFrame:
    from selfinstruct.errors import InputError
    from selfinstruct.io import read_parquet

    try:
        return read_parquet(path)
    except InputError as e:
        raise ImportFormatError(str(path), e.message) from None


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".tsv"):
        return "csv"
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "alpaca-json" if head.startswith(b"[") else "jsonl"


def iter_json_records(path: Path):
    """Yield (line, object) from a JSON array file or a JSON Lines file (the toolkit's one reader)."""
    from selfinstruct.errors import InputError
    from selfinstruct.io import read_json_objects

    try:
        yield from read_json_objects(path)
    except InputError as e:
        raise ImportFormatError(e.path, e.message, line=e.line, field=e.field) from None


def records_to_frame(path: Path, items: list[tuple[int, object]]) -> pl.DataFrame:
    extras: list[str] = []
    for lineno, obj in items:
        check_record(path, lineno, obj, "line")
        extras.extend(k for k in obj if k not in REQUIRED_COLUMNS and k not in extras)
    columns = {c: [] for c in (*REQUIRED_COLUMNS, *extras)}
    for _, obj in items:
        for c in columns:
            value = obj.get(c, "" if c == "input" else None)
            columns[c].append(value if value is None or isinstance(value, str) else json.dumps(value))
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def check_record(path: Path, lineno: int, obj, what: str) -> None:
    if not isinstance(obj, dict):
        raise ImportFormatError(str(path), f"expected a JSON object, got {type(obj).__name__}", line=lineno)
    for field in REQUIRED_COLUMNS:
        value = obj.get(field, "" if field == "input" else None)
        if value is None:
            raise ImportFormatError(str(path), "missing", line=lineno, field=field)
        if not isinstance(value, str):
            raise ImportFormatError(str(path), f"expected text, got {type(value).__name__}", line=lineno, field=field)
    if not obj["instruction"].strip():
        raise ImportFormatError(str(path), "empty", line=lineno, field="instruction")


def check_columns(path: Path, frame: pl.DataFrame, *, first_line: int, what: str) -> pl.DataFrame:
    """Validate a tabular file column by column; errors name the first bad row (CSV: its line)."""
    if "input" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("input"))
    for field in REQUIRED_COLUMNS:
        if field not in frame.columns:
            raise ImportFormatError(str(path), f"missing column (has {frame.columns})", line=first_line - 1 or None,
                                    field=field)
        if frame.schema[field] not in (pl.String, pl.Null):
            raise ImportFormatError(str(path), f"expected text, got {frame.schema[field]}", field=field)
        nulls = frame.get_column(field).is_null().arg_true()
        if len(nulls) and field != "input":
            raise ImportFormatError(str(path), "missing", line=int(nulls[0]) + first_line, field=field)
    frame = frame.with_columns(pl.col("input").fill_null(""))
    empty = frame.get_column("instruction").str.strip_chars().eq("").arg_true()
    if len(empty):
        raise ImportFormatError(str(path), "empty", line=int(empty[0]) + first_line, field="instruction")
    extras = [c for c in frame.columns if c not in REQUIRED_COLUMNS]
    return frame.select([*REQUIRED_COLUMNS, *extras])
