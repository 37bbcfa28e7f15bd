"""Write a version out as JSON Lines, Alpaca JSON, Parquet, or a Hugging Face dataset folder.

The output path is checked before any work, and everything is written under a temporary name and
renamed into place, so a failed export leaves nothing behind (see registry/outputs.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from registry.errors import RegistryError
from registry.outputs import HF_FOLDER_ENTRIES, atomic_output, check_output
from registry.versions import as_store, open_version, resolve

EXPORT_FORMATS = ("jsonl", "alpaca-json", "parquet", "hf")


def export(ref: str, fmt: str, output: str | Path, *, root=None) -> Path:
    """Write `ref` to `output` in `fmt`; `hf` writes a folder with data/*.parquet and README.md."""
    if fmt not in EXPORT_FORMATS:
        raise RegistryError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    output = check_output(output, folder=fmt == "hf", replaceable=HF_FOLDER_ENTRIES)
    store = as_store(root)
    version = resolve(ref, root=store)
    if fmt == "hf" and version.rows == 0:
        raise RegistryError(f"{version.ref} has no rows, and the datasets library cannot load an empty split; "
                            "export it with --format jsonl or parquet")
    frame = open_version(version, root=store)
    if fmt == "hf":
        return write_hf_folder(store, version, frame, output)
    with atomic_output(output) as tmp:
        if fmt == "parquet":
            frame.write_parquet(tmp, compression="zstd")
        elif fmt == "jsonl":
            with tmp.open("w", encoding="utf-8") as f:
                for row in frame.iter_rows(named=True):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:  # Alpaca's own layout: one JSON array, four-space indent
            tmp.write_text(json.dumps(frame.to_dicts(), indent=4, ensure_ascii=False), encoding="utf-8")
    return output


def write_hf_folder(store, version, frame: pl.DataFrame, output: Path) -> Path:
    """A folder `datasets.load_dataset(output)` reads: Parquet data plus the datasheet as README.md."""
    from registry.datasheet import render_markdown

    card = render_markdown(version, root=store, frame=frame, hf_configs=True)
    with atomic_output(output, folder=True) as tmp:
        (tmp / "data").mkdir()
        frame.write_parquet(tmp / "data" / "train-00000-of-00001.parquet", compression="zstd")
        (tmp / "README.md").write_text(card, encoding="utf-8")
    return output
