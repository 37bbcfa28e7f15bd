"""The record viewer's table for unusual versions."""

from __future__ import annotations

import polars as pl, registry
from registry.store import as_store
from registry import resolve
from webapp import records


def test_a_version_of_zero_rows_without_a_schema_has_an_empty_records_table(tmp_path):
    root = str(tmp_path / "reg")
    registry.commit(pl.DataFrame(schema={c: pl.String for c in records.FIELDS}), name="empty", lineage={"operation": "import"}, root=root)
    store = as_store(root)
    t = records.table(resolve("empty@1", root=store), store)
    assert t.height == 0 and set(records.FIELDS) <= set(t.columns)
