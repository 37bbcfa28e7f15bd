"""Write a version out as JSON Lines, Alpaca JSON, chat messages, ShareGPT, Parquet, or a Hugging Face
dataset folder.

`messages` and `sharegpt` are JSON Lines of conversations (records/conversations.py says how a record
becomes one); they carry instruction, input, output and a `system` field, and no other field.

`layers` adds score layers as columns: NAME holds each row's score (null where the scorer could not
give one) and NAME_reason the judge's reason, when the layer has reasons. Columns fit every format but
the two conversation formats, which refuse them.

The output path is checked before any work, and everything is written under a temporary name and
renamed into place, so a failed export leaves nothing behind (see registry/outputs.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from records.conversations import CHAT_FORMATS, record_messages, to_chat_line
from registry.errors import RegistryError
from registry.layers import version_scores
from registry.outputs import HF_FOLDER_ENTRIES, atomic_output, check_output
from registry.versions import as_store, open_version, resolve

MESSAGES_TYPE = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
MESSAGES_FEATURE = {"name": "messages", "list": [{"name": "role", "dtype": "string"},
                                                 {"name": "content", "dtype": "string"}]}
"""The hf export's messages column, as polars writes it and as the datasets library's card declares it."""
HF_DTYPES = {pl.Float64: "float64", pl.String: "string"}
"""The card's dtype of a layer's columns (score, reason)."""

EXPORT_FORMATS = ("jsonl", "alpaca-json", *CHAT_FORMATS, "parquet", "hf")
LAYER_FORMATS = ("jsonl", "alpaca-json", "parquet", "hf")
"""The formats with a place for extra columns (a conversation line has only its turns)."""


def export(ref: str, fmt: str, output: str | Path, *, root=None, system: str | None = None,
           messages_column: bool = False, layers: Sequence[str] = ()) -> Path:
    """Write `ref` to `output` in `fmt`; `hf` writes a folder with data/*.parquet and README.md.

    `system` is the system turn of `messages` and `sharegpt` lines (and of the `hf` messages column)
    for rows without a `system` field of their own; `messages_column` adds a `messages` column to `hf`;
    `layers` adds those score layers of the version as columns.
    """
    if fmt not in EXPORT_FORMATS:
        raise RegistryError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if system is not None and fmt not in (*CHAT_FORMATS, "hf"):
        raise RegistryError(f"--system applies to the messages, sharegpt and hf formats, not {fmt}")
    if messages_column and fmt != "hf":
        raise RegistryError(f"a messages column is for --format hf; {fmt} was asked for")
    if system is not None and fmt == "hf" and not messages_column:
        raise RegistryError("--system with --format hf needs the messages column (--messages)")
    layers = list(dict.fromkeys(layers))
    if layers and fmt not in LAYER_FORMATS:
        raise RegistryError(f"--layer adds columns, and the {fmt} format has no place for them; "
                            f"use one of {', '.join(LAYER_FORMATS)}")
    output = check_output(output, folder=fmt == "hf", replaceable=HF_FOLDER_ENTRIES)
    store = as_store(root)
    version = resolve(ref, root=store)
    if fmt == "hf" and version.rows == 0:
        raise RegistryError(f"{version.ref} has no rows, and the datasets library cannot load an empty split; "
                            "export it with --format jsonl or parquet")
    frame = open_version(version, root=store)
    own_columns = frame.columns
    if layers:
        frame = with_layers(store, version, frame, layers)
    if fmt == "hf":
        return write_hf_folder(store, version, frame, output,
                               messages_series(version, frame, system) if messages_column else None,
                               added=[c for c in frame.columns if c not in own_columns])
    with atomic_output(output) as tmp:
        if fmt in CHAT_FORMATS:
            with tmp.open("w", encoding="utf-8") as f:
                for row in frame.iter_rows(named=True):
                    f.write(json.dumps(to_chat_line(row, fmt, system), ensure_ascii=False) + "\n")
        elif fmt == "parquet":
            frame.write_parquet(tmp, compression="zstd")
        elif fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as f:
                for row in frame.iter_rows(named=True):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:  # Alpaca's own layout: one JSON array, four-space indent
            tmp.write_text(json.dumps(frame.to_dicts(), indent=4, ensure_ascii=False), encoding="utf-8")
    return output


def with_layers(store, version, frame: pl.DataFrame, layers: list[str]) -> pl.DataFrame:
    """`frame` with a column per layer (and NAME_reason where it has reasons); an unknown layer, or
    one whose column the version already has, is a RegistryError (checked before anything is written)."""
    for name in layers:
        taken = next((c for c in (name, f"{name}_reason") if c in frame.columns), None)
        if taken:
            raise RegistryError(f"{version.ref} already has a column named {taken!r}, so layer {name!r} cannot be "
                                "exported beside it")
    return version_scores(version, layers, root=store, frame=frame)


def messages_series(version, frame: pl.DataFrame, system: str | None) -> pl.Series:
    """The hf export's `messages` column: each row as [system?, user, assistant] turns."""
    if "messages" in frame.columns:
        raise RegistryError(f"{version.ref} already has a messages column; export it without --messages")
    return pl.Series("messages", [record_messages(row, system) for row in frame.iter_rows(named=True)],
                     dtype=MESSAGES_TYPE)


def write_hf_folder(store, version, frame: pl.DataFrame, output: Path, messages: pl.Series | None = None,
                    added: Sequence[str] = ()) -> Path:
    """A folder `datasets.load_dataset(output)` reads: Parquet data plus the datasheet as README.md.

    The datasheet describes the version's own columns; columns added for the export (`added`: score
    layers, then `messages`) go after them and into the card's features, so the datasets library
    reads them with their types."""
    from registry.datasheet import front_matter, render_body
    from registry.escape import yaml_block
    from registry.facts import collect_facts

    own = frame.drop(added)
    facts = collect_facts(version, root=store, frame=own)
    meta = front_matter(facts, hf_configs=True)
    meta["dataset_info"]["features"] += [{"name": c, "dtype": HF_DTYPES[frame.schema[c]]} for c in added]
    if messages is not None:
        frame = frame.with_columns(messages)
        meta["dataset_info"]["features"].append(MESSAGES_FEATURE)
    card = f"---\n{yaml_block(meta)}---\n" + render_body(facts)
    with atomic_output(output, folder=True) as tmp:
        (tmp / "data").mkdir()
        frame.write_parquet(tmp / "data" / "train-00000-of-00001.parquet", compression="zstd")
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return output
