"""Write a version out as JSON Lines, Alpaca JSON, Parquet, or a Hugging Face dataset folder."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from registry.store import as_store, open_version, resolve

EXPORT_FORMATS = ("jsonl", "alpaca-json", "parquet", "hf")


def export(ref: str, fmt: str, output: str | Path, *, root=None) -> Path:
    """Write `ref` to `output` in `fmt`; `hf` writes a folder with data/*.parquet and README.md."""
    store = as_store(root)
    version = resolve(ref, root=store)
    frame = open_version(version, root=store)
    output = Path(output)
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "hf":
        return write_hf_folder(store, version, frame, output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(output, compression="zstd")
    elif fmt == "jsonl":
        with output.open("w", encoding="utf-8") as f:
            for row in frame.iter_rows(named=True):
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:  # Alpaca's own layout: one JSON array, four-space indent
        output.write_text(json.dumps(frame.to_dicts(), indent=4, ensure_ascii=False), encoding="utf-8")
    return output


def write_hf_folder(store, version, frame: pl.DataFrame, output: Path) -> Path:
    """A folder `datasets.load_dataset(output)` reads: Parquet data plus the datasheet as README.md."""
    from registry.datasheet import render_markdown

    (output / "data").mkdir(parents=True, exist_ok=True)
    frame.write_parquet(output / "data" / "train-00000-of-00001.parquet", compression="zstd")
    card = render_markdown(version, root=store, frame=frame, hf_configs=True)
    (output / "README.md").write_text(card, encoding="utf-8")
    return output
