"""The records page of a version as it opens: read alone from the shards, it shows what the full table shows."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import registry
from registry.errors import CorruptError
from registry.row_facts import as_json, compute_facts, facts_relpath, read_facts
from registry.versions import as_store, resolve
from tests.registry.test_row_facts import varied_frame
from tests.webapp.asgi import request
from webapp import records
from webapp.app import create_app


def fresh_caches() -> None:
    """As a server just started: nothing derived from any version kept yet."""
    for cache in (records._tables, records._facts, records._verbs, records._kept):
        cache._items.clear()


def page_html(app, path: str) -> str:
    """The page without the per-session form token."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", request(app, path).text)


def old_top_verbs(table: pl.DataFrame, n: int = 30) -> list[str]:
    """The verb filter's choices as the page computed them from the whole table before facts were stored."""
    counts = table.filter(pl.col("verb") != "").group_by("verb").len().sort(["len", "verb"], descending=[True, False])
    return counts.head(n).get_column("verb").to_list()


@pytest.fixture
def two_shards(tmp_path):
    """A version whose first page spans two shards (its parent's and its own), out of order."""
    root = str(tmp_path / "reg")
    frame = varied_frame(130)
    registry.commit(frame.slice(20, 110), name="mix", lineage={"operation": "import"}, root=root)
    child = pl.concat([frame.slice(0, 20), frame.slice(100, 30), frame.slice(20, 80)])
    v = registry.commit(child, name="mix", parents=["mix@1"], lineage={"operation": "import"}, root=root)
    assert len(v.manifest["shards"]) == 2
    return root, v


def test_first_page_shows_the_rows_count_and_verbs_of_the_full_table(two_shards, tmp_path):
    root, v = two_shards
    store = as_store(root)
    fresh_caches()
    head = records.first_page(v, store)
    assert head is not None
    full = records.table(v, store)
    rows, total = records.select(full, records.Query())
    assert head.drop("_text").to_dicts() == rows.to_dicts() and total == v.rows
    assert records.verbs(v, store) == old_top_verbs(full)

    app = create_app(root, tmp_path / "s.sqlite")
    fresh_caches()
    opened = page_html(app, "/v/mix@2/records")  # read from the shards
    records.table(v, store)  # (the page started building it in the background)
    assert records.first_page(v, store) is None  # with the table built, the page comes from it
    assert page_html(app, "/v/mix@2/records") == opened
    assert "130 matching records" in opened and "page 1 of 3" in opened


def test_a_version_without_stored_facts_opens_from_its_table(two_shards, tmp_path):
    root, v = two_shards
    (Path(root) / facts_relpath(v.hash)).unlink()  # committed by a release that stored none
    fresh_caches()
    store = as_store(root)
    assert records.first_page(v, store) is None
    assert records.verbs(v, store) == old_top_verbs(records.table(v, store))
    fresh_caches()
    html = page_html(create_app(root, tmp_path / "s.sqlite"), "/v/mix@2/records")
    assert "130 matching records" in html and "Explain the topic number 2." in html
    # Once the page is sent, its facts are stored from the table, so its next first page is read alone.
    assert read_facts(store, v.hash) == as_json(compute_facts(registry.open("mix@2", root=root)))
    fresh_caches()
    assert records.first_page(v, store) is not None
    fresh_caches()
    assert page_html(create_app(root, tmp_path / "s.sqlite"), "/v/mix@2/records") == html


def test_first_page_refuses_rows_that_do_not_match_the_record_hashes(two_shards, tmp_path):
    root, v = two_shards
    shard = Path(root) / v.manifest["shards"][0]["path"]
    pl.read_parquet(shard).with_columns(pl.col("output").str.replace("^word", "WORD")).write_parquet(shard)
    fresh_caches()
    with pytest.raises(CorruptError, match="do not hash"):
        records.first_page(resolve("mix@2", root=root), as_store(root))
    fresh_caches()
    reply = request(create_app(root, tmp_path / "s.sqlite"), "/v/mix@2/records")
    assert reply.status == 404 and "WORD" not in reply.text
