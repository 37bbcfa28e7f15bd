"""Read, validate and write instruction records: Alpaca's JSON list, JSON Lines, Parquet and CSV.

The one reader of record files for the whole project. Every error is an InputError naming the file,
the 1-based line (or row) and the field; records come back as dicts (`read_records`) or as a polars
frame with instruction, input, output first (`read_frame`).

Every file a user gives is read within one size limit ($SELFINSTRUCT_MAX_INPUT_BYTES, 2 GiB by
default) through `read_bytes_bounded`: a device is refused unread, a pipe is read up to the limit.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from records.conversations import CHAT_FORMATS, chat_record
from records.errors import InputError
from records.schema import RECORD_FIELDS

RECORD_SUFFIXES = (".jsonl", ".json")
TOO_DEEP = "invalid JSON: nested too deeply to be a record"

MAX_INPUT_ENV = "SELFINSTRUCT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 2 << 30
"""2 GiB: Alpaca's 52K records are 22 MB (about 420 bytes a record), so this holds a million records of
up to 2 KB each, while a runaway input (/dev/zero, a pipe that never ends) stops long before memory does."""
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_CHUNK = 1 << 20


def max_input_bytes() -> int:
    """The most bytes one input file may hold: $SELFINSTRUCT_MAX_INPUT_BYTES (bytes, or with a binary
    unit: 500M, 4G, 4GiB), else DEFAULT_MAX_INPUT_BYTES."""
    raw = os.environ.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    m = re.fullmatch(r"(\d+)\s*([kmgt]?)(?:i?b)?", raw.lower())
    if not m or int(m.group(1)) == 0:
        raise InputError(f"${MAX_INPUT_ENV}", f"must be a positive number of bytes such as 500000000, 500M or 4G, "
                         f"got {raw!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KiB': sizes in error messages, in the binary units the limit is given in."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"


def over_limit(path, limit: int, size: int | None = None) -> InputError:
    """The one refusal of an input over the size limit: it names the file, the limit and how to raise it."""
    held = f"is {human_bytes(size)}" if size is not None else f"holds more than {human_bytes(limit)}"
    exact = f" ({limit} bytes)" if limit >= 1024 else ""
    return InputError(path, f"{held}, over the input limit of {human_bytes(limit)}{exact}; "
                      f"set {MAX_INPUT_ENV} to raise it")


def check_input_file(path: str | Path, *, what: str = "file", limit: int | None = None) -> os.stat_result:
    """Refuse, before reading, a path that is missing, a folder, a device (/dev/zero, /dev/urandom: no end
    and no size) or a regular file over the limit. Pipes pass: `read_bytes_bounded` stops them at the limit."""
    limit = max_input_bytes() if limit is None else limit
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, f"no such {what}") from None
    except OSError as e:
        raise InputError(path, f"cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, f"is a folder; give a {what}")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise InputError(path, f"is a device, not a {what}")
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise over_limit(path, limit, st.st_size)
    return st


def read_bytes_bounded(path: str | Path, *, what: str = "file", limit: int | None = None) -> bytes:
    """Every byte of an input file, refused with an InputError naming the file and the limit when there
    are more than `limit` (default `max_input_bytes()`): how the project reads the files users give it.

    A regular file's size is checked before reading; a pipe is read in 1 MiB chunks, never past the limit.
    """
    limit = max_input_bytes() if limit is None else limit
    check_input_file(path, what=what, limit=limit)
    chunks, total = [], 0
    try:
        with open(path, "rb", buffering=0) as f:  # unbuffered: a pipe is not read ahead past the limit
            while chunk := f.read(min(_CHUNK, limit + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:  # a file that grew since it was checked, or a pipe
                    raise over_limit(path, limit)
    except OSError as e:
        raise InputError(path, f"cannot be read ({e.strerror or e})") from None
    return b"".join(chunks)


def read_text_utf8(path: str | Path, *, what: str = "file") -> str:
    """The file's text (read within the input limit), or an InputError that names the first byte that is not UTF-8."""
    return decode_utf8(read_bytes_bounded(path, what=what), path)


def decode_utf8(data: bytes, source) -> str:
    """`data` as text (a leading BOM dropped), or an InputError naming `source` and the first byte
    that is not UTF-8: the rule for files on disk and for uploaded bytes alike."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(source, f"is not UTF-8 (byte {e.start}: {data[e.start:e.start + 1]!r})", line=line) from None


def read_json_objects(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Yield (line, object) from a JSON list file or a JSON Lines file, parsing each object once."""
    yield from parse_json_objects(read_text_utf8(path), path)


def parse_json_objects(text: str, source) -> Iterator[tuple[int, dict]]:
    """Yield (line, object) from the text of a JSON list or of JSON Lines; errors name `source`.

    For a JSON list the line is where each object starts, so errors still point at the right place.
    Lines split on newline only: a raw U+2028 inside a JSON string is text, not a line break.
    """
    if text.lstrip().startswith("["):
        yield from _json_list_objects(source, text)
        return
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(source, f"invalid JSON: {e.msg} (column {e.colno})", line=lineno) from None
        except RecursionError:
            raise InputError(source, TOO_DEEP, line=lineno) from None
        yield lineno, _object(obj, source, lineno)


def _json_list_objects(path, text: str) -> Iterator[tuple[int, dict]]:
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    counted, lineno = 0, 1  # lines are counted from the previous object on, not from the start each time
    while True:
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == "]":
            return
        lineno += text.count("\n", counted, pos)
        counted = pos
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise InputError(path, f"invalid JSON: {e.msg} (column {e.colno})", line=e.lineno) from None
        except RecursionError:
            raise InputError(path, TOO_DEEP, line=lineno) from None
        yield lineno, _object(obj, path, lineno)
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos >= len(text) or text[pos] != "]":
            raise InputError(path, "invalid JSON: expected ',' or ']' after an object",
                             line=text.count("\n", 0, pos) + 1)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _object(obj, path, lineno: int) -> dict:
    if not isinstance(obj, dict):
        raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", line=lineno)
    return obj


def read_records(path: str | Path) -> list[dict]:
    """Alpaca records (instruction, input, output) from a JSON list or JSONL file, validated.

    `input` may be absent (taken as empty); `instruction` must be a non-empty string.
    """
    records = []
    for lineno, obj in read_json_objects(path):
        records.append(validate_record(obj, path, lineno))
    return records


def validate_record(obj: dict, path, lineno: int) -> dict:
    """Check one Alpaca record's fields and return it as {instruction, input, output, ...extras}."""
    for field in ("instruction", "output"):
        if field not in obj:
            raise InputError(path, "is missing", line=lineno, field=field)
    for field in RECORD_FIELDS:
        if field in obj and not isinstance(obj[field], str):
            raise InputError(path, f"must be a string, got {type(obj[field]).__name__} (expected text)",
                             line=lineno, field=field)
        if field in obj:
            check_text(obj[field], path, lineno, field)
    if not obj["instruction"].strip():
        raise InputError(path, "is empty", line=lineno, field="instruction")
    return {"instruction": obj["instruction"], "input": obj.get("input", ""), "output": obj["output"],
            **{k: v for k, v in obj.items() if k not in RECORD_FIELDS}}


def check_text(value: str, path, lineno: int, field: str) -> str:
    """Refuse text that cannot be written as UTF-8: a lone surrogate, from a \\udXXX escape in the JSON."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InputError(path, f"holds a lone surrogate ({value[e.start]!r} at character {e.start}), which is "
                         "not text: fix the \\u escape", line=lineno, field=field) from None
    return value


FORMATS = ("auto", "alpaca-json", "jsonl", *CHAT_FORMATS, "parquet", "csv")


def detect_format(path: Path) -> str:
    """The format of `path` from its suffix, or for JSON from its first character. A pipe is not peeked
    into, since what is read from it is gone: its JSON is named by suffix (the reader tells a list from
    lines by itself)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if not stat.S_ISREG(check_input_file(path).st_mode):
        return "alpaca-json" if suffix == ".json" else "jsonl"
    with path.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "alpaca-json" if head.startswith(b"[") else "jsonl"


def read_frame(path: str | Path, fmt: str = "auto"):
    """Records of `path` as a polars frame of text: instruction, input, output first (missing input = ""),
    then any other fields (non-text values of JSON records as JSON text)."""
    path = Path(path)
    check_input_file(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("alpaca-json", "jsonl", *CHAT_FORMATS):  # a conversation line becomes its record first
        return records_to_frame([validate_record(chat_record(obj, path, lineno, fmt), path, lineno)
                                 for lineno, obj in read_json_objects(path)])
    if fmt == "parquet":
        return check_columns(path, read_parquet(path), first_line=1)
    if fmt == "csv":
        return check_columns(path, read_csv(path), first_line=2)
    raise InputError(path, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def records_to_frame(records: list[dict]):
    """Validated records as a frame of text columns; fields beyond the three, in first-seen order."""
    import polars as pl

    extras: list[str] = []
    for rec in records:
        extras.extend(k for k in rec if k not in RECORD_FIELDS and k not in extras)
    columns = {c: [] for c in (*RECORD_FIELDS, *extras)}
    for rec in records:
        for c in columns:
            value = rec.get(c)
            columns[c].append(value if value is None or isinstance(value, str) else json.dumps(value))
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def check_columns(path: Path, frame, *, first_line: int):
    """validate_record for a table, column by column; errors name the first bad row (CSV: its line)."""
    import polars as pl

    if "input" not in frame.columns:
        frame = frame.with_columns(pl.lit("").alias("input"))
    for field in RECORD_FIELDS:
        if field not in frame.columns:
            raise InputError(path, f"is missing: no such column (has {frame.columns})",
                             line=first_line - 1 or None, field=field)
        if frame.schema[field] not in (pl.String, pl.Null):
            raise InputError(path, f"must be a string, got {frame.schema[field]} (expected text)", field=field)
        nulls = frame.get_column(field).is_null().arg_true()
        if len(nulls) and field != "input":
            raise InputError(path, "is missing", line=int(nulls[0]) + first_line, field=field)
    frame = frame.with_columns(pl.col("input").fill_null(""))
    empty = frame.get_column("instruction").str.strip_chars().eq("").arg_true()
    if len(empty):
        raise InputError(path, "is empty", line=int(empty[0]) + first_line, field="instruction")
    extras = [c for c in frame.columns if c not in RECORD_FIELDS]
    return frame.select([*(pl.col(c).cast(pl.String) for c in RECORD_FIELDS), *extras])


def _table_source(path: str | Path):
    """What polars reads: a regular file by its path once its size is checked (polars maps it), anything
    else (a pipe) as its bytes, read within the input limit."""
    if stat.S_ISREG(check_input_file(path).st_mode):
        return path
    return io.BytesIO(read_bytes_bounded(path))


def read_parquet(path: str | Path):
    """A Parquet file as a polars frame, or an InputError naming the file when it is not Parquet."""
    import polars as pl

    source = _table_source(path)
    try:
        return pl.read_parquet(source)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InputError(path, f"is not a readable Parquet file ({str(e).splitlines()[0][:200]})") from None


def read_csv(path: str | Path):
    """A CSV file as a polars frame of text (empty cells stay ""), or an InputError naming the file."""
    import polars as pl

    source = _table_source(path)
    try:
        return pl.read_csv(source, infer_schema=False, empty_string_is_null=False)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InputError(path, f"is not a readable CSV file ({str(e).splitlines()[0][:200]})") from None


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer to fill; when the block ends it replaces `path`
    whole, so readers see the old file or the new one, never a part. On an error it is removed.
    The project's one temp-file-and-rename: `write_text_atomic`, exports and the registry use it.

        with atomic_path("out.parquet") as tmp:
            frame.write_parquet(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")  # unique: concurrent writers never share one
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all (see `atomic_path`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, value) -> None:
    """`value` as indented UTF-8 JSON (a summary, results), written whole or not at all."""
    write_text_atomic(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def write_records(path: str | Path, records: Iterable[dict], fields: tuple[str, ...] = RECORD_FIELDS) -> int:
    """Write records atomically: Alpaca's JSON list for `.json`, JSON Lines otherwise."""
    rows = [{k: r.get(k, "") for k in fields} for r in records]
    if Path(path).suffix == ".json":
        text = json.dumps(rows, indent=4, ensure_ascii=False) + "\n"
    else:
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    write_text_atomic(path, text)
    return len(rows)


def check_writable(path: str | Path, *, folder: bool = False, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse, before any work is done, an output that could not be written: an InputError naming
    the path and why. Nothing is left behind: a probe file is created and removed in the nearest
    folder that exists."""
    path = Path(path)
    if suffixes and path.suffix not in suffixes:
        raise InputError(path, f"unsupported output type {path.suffix or '(none)'!r}: use {' or '.join(suffixes)}")
    if folder and path.exists() and not path.is_dir():
        raise InputError(path, "is a file; give a folder")
    if not folder and path.is_dir():
        raise InputError(path, "is a folder; give a file path")
    target = (path if folder else path.parent).absolute()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        raise InputError(path, f"cannot be written: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InputError(path, f"cannot be written ({e.strerror or e}: {existing})") from None
