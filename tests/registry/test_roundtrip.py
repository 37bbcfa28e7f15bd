"""Import then export gives back the same records in order; identity depends on content only."""

from __future__ import annotations

import json

import polars as pl
import pytest

import registry
from registry.export import export
from registry.importing import import_file

from .conftest import make_frame

RECORDS = [
    {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well; sleep; move."},
    {"instruction": "Translate to French.", "input": "Good morning — café ☕", "output": "Bonjour — café ☕"},
    {"instruction": "Sort the list.", "input": "b, a, c", "output": "a, b, c"},
    {"instruction": "Say \"hi\" with a | pipe\nand a newline.", "input": "", "output": "hi |"},
]


def write_input(tmp_path, fmt: str):
    if fmt == "jsonl":
        path = tmp_path / "in.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    elif fmt == "alpaca-json":
        path = tmp_path / "in.json"
        path.write_text(json.dumps(RECORDS, indent=4), encoding="utf-8")
    elif fmt == "parquet":
        path = tmp_path / "in.parquet"
        pl.DataFrame(RECORDS).write_parquet(path)
    else:
        path = tmp_path / "in.csv"
        pl.DataFrame(RECORDS).write_csv(path)
    return path


@pytest.mark.parametrize("fmt_in", ["jsonl", "alpaca-json", "parquet", "csv"])
@pytest.mark.parametrize("fmt_out", ["jsonl", "alpaca-json", "parquet"])
def test_import_export_round_trip_keeps_records_in_order(tmp_path, root, fmt_in, fmt_out):
    version = import_file(write_input(tmp_path, fmt_in), name="tips", root=root)
    out = export(version.ref, fmt_out, tmp_path / f"out.{fmt_out}", root=root)
    if fmt_out == "parquet":
        back = pl.read_parquet(out).to_dicts()
    elif fmt_out == "jsonl":
        back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        back = json.loads(out.read_text(encoding="utf-8"))
    assert back == RECORDS


def test_open_returns_committed_frame(root, frame):
    version = registry.commit(frame, name="notes", lineage={"operation": "import"}, root=root)
    assert registry.open(version.ref, root=root).equals(frame)
    assert version.ref == "notes@1" and version.number == 1 and version.manifest["rows"] == 120


def test_identical_content_gives_identical_hash_anywhere(tmp_path, frame):
    a = registry.commit(frame, name="one", lineage={"operation": "import"}, root=str(tmp_path / "r1"))
    b = registry.commit(frame.clone(), name="two", lineage={"operation": "generate"}, root=str(tmp_path / "r2"))
    assert a.hash == b.hash


def test_any_changed_character_or_order_changes_hash(root, frame):
    base = registry.commit(frame, name="notes", lineage={}, root=root)
    edited = frame.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("x")).otherwise(pl.col("output"))
                                .alias("output"))
    assert registry.commit(edited, name="notes", lineage={}, root=root).hash != base.hash
    assert registry.commit(frame.reverse(), name="notes", lineage={}, root=root).hash != base.hash


def test_child_version_shares_parent_storage(root):
    parent_frame = make_frame(5000)
    parent = registry.commit(parent_frame, name="big", lineage={}, root=root)
    # Edit 2% of rows spread through the file, as AlpacaDataCleaned did to Alpaca.
    child_frame = parent_frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0).then(pl.col("output") + " (fixed)").otherwise(pl.col("output"))
        .alias("output"))
    child = registry.commit(child_frame, name="big", lineage={}, parents=[parent.ref], root=root)
    assert child.manifest["storage"]["bytes_added"] < 0.2 * parent.manifest["storage"]["bytes_added"]
    assert registry.open(child.ref, root=root).equals(child_frame)
    assert registry.open(parent.ref, root=root).equals(parent_frame)


def test_version_selectors(root, frame):
    v1 = registry.commit(frame, name="notes", lineage={}, root=root)
    v2 = registry.commit(frame.head(10), name="notes", lineage={}, root=root)
    registry.set_alias("notes@1", "stable", root=root)
    assert registry.resolve("notes", root=root).number == 2
    assert registry.resolve("notes@latest", root=root).number == 2
    assert registry.resolve("notes@stable", root=root).number == 1
    assert registry.resolve(f"notes@{v2.hash[:8]}", root=root).number == 2
    assert registry.resolve(f"notes@{v1.hash[:10]}", root=root).ref == "notes@1"
    assert registry.open("notes@2", root=root).height == 10


def test_extra_columns_and_empty_frame_round_trip(root):
    frame = make_frame(5).with_columns(pl.Series("source", ["a", None, "c", "d", "e"]))
    v = registry.commit(frame, name="extra", lineage={}, root=root)
    assert registry.open(v.ref, root=root).equals(frame)
    empty = registry.commit(frame.head(0), name="extra", lineage={}, root=root)
    assert registry.open(empty.ref, root=root).height == 0
