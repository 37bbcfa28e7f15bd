"""The record viewer's table for unusual versions."""

from __future__ import annotations

import polars as pl

import registry
from registry.store import as_store, resolve
from webapp import records


def test_a_version_of_zero_rows_stored_without_columns_has_an_empty_records_table(tmp_path):
    root = str(tmp_path / "reg")
    empty = pl.DataFrame(schema={c: pl.String for c in records.FIELDS})
    registry.commit(empty, name="empty", lineage={"operation": "import"}, root=root)
    store = as_store(root)
    table = records.table(resolve("empty@1", root=store), store)
    assert table.height == 0 and set(records.FIELDS) <= set(table.columns)
