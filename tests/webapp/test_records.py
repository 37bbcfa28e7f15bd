"""A version of 0 rows: its records page and its diff have the text columns to work with."""

from __future__ import annotations

import polars as pl

import registry
from registry.diff import diff
from registry.store import as_store, resolve
from webapp import records


def test_a_version_of_zero_rows_keeps_its_columns_for_the_records_page_and_diff(tmp_path):
    root = str(tmp_path / "reg")
    registry.commit(pl.DataFrame(schema={c: pl.String for c in records.FIELDS}), name="empty",
                    lineage={"operation": "import"}, root=root)
    registry.commit(pl.DataFrame({"instruction": ["a"], "input": [""], "output": ["x"]}), name="one",
                    lineage={"operation": "import"}, root=root)
    assert registry.open("empty@1", root=root).columns == list(records.FIELDS)
    store = as_store(root)
    table = records.table(resolve("empty@1", root=store), store)
    assert table.height == 0 and set(records.FIELDS) <= set(table.columns)
    assert diff("empty@1", "one@1", root=root) is not None
