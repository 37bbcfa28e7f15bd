"""Derivations make child versions with the operation, counts and drops recorded."""

from __future__ import annotations

import pytest

import registry
from registry.derive import merge, sample

from .conftest import make_frame


def test_sample_keeps_order_and_records_operation(root, frame):
    registry.commit(frame, name="notes", lineage={}, root=root)
    v = sample("notes@1", into="small", n=30, seed=7, root=root)
    rows = registry.open(v.ref, root=root)
    positions = [frame["instruction"].to_list().index(t) for t in rows["instruction"]]
    assert rows.height == 30 and positions == sorted(positions)
    assert v.parents == ["notes@1"] and v.manifest["lineage"]["counts"] == {"before": 120, "after": 30}
    assert sample("notes@1", into="small2", n=30, seed=7, root=root).hash == v.hash


def test_merge_drops_exact_duplicates(root):
    a = registry.commit(make_frame(20), name="a", lineage={}, root=root)
    b = registry.commit(make_frame(20, start=10), name="b", lineage={}, root=root)
    v = merge([a.ref, b.ref], into="ab", root=root)
    assert v.rows == 30 and v.manifest["lineage"]["drops"] == {"exact_duplicate": 10}
    assert v.parents == ["a@1", "b@1"]
    assert v.manifest["storage"]["bytes_added"] < a.manifest["storage"]["bytes_added"]


def test_filter_uses_engine_rules(root):
    filters = pytest.importorskip("selfinstruct.filters", reason="needs the generation engine's filters")
    from commands.derive import filter_version

    frame = make_frame(10).to_dicts()
    frame[3]["instruction"] = "Draw a picture of a cat for me please."  # Alpaca blacklist word
    frame[5]["output"] = ""
    import polars as pl

    registry.commit(pl.DataFrame(frame), name="raw", lineage={}, root=root)
    v = filter_version("raw@1", into="clean", profile="strict", root=root)
    expected = {r for r in (filters.filter_reason(rec, profile="strict") for rec in frame) if r}
    assert v.rows == 10 - sum(1 for rec in frame if filters.filter_reason(rec, profile="strict"))
    assert set(v.manifest["lineage"]["drops"]) == expected and v.rows <= 8


def test_filter_command_prints_its_drops_per_rule(root):
    import polars as pl
    from click.testing import CliRunner

    from commands.main import cli

    frame = make_frame(6).to_dicts()
    frame[1]["output"] = frame[4]["output"] = ""
    registry.commit(pl.DataFrame(frame), name="raw", lineage={}, root=root)
    result = CliRunner().invoke(cli, ["registry", "filter", "raw@1", "--into", "clean", "--registry", root])
    assert result.exit_code == 0, result.output
    assert "clean@1  4 rows from raw@1  (6 before)" in result.output
    assert "dropped: empty_output 2" in result.output


def test_dedup_uses_engine_dedup(root):
    pytest.importorskip("selfinstruct.dedup", reason="needs the generation engine's dedup")
    import polars as pl

    from commands.derive import dedup_version

    rows = [{"instruction": "Write a poem about the sea.", "input": "", "output": "Waves."},
            {"instruction": "Write a poem about the sea!", "input": "", "output": "Tides."},
            {"instruction": "List three prime numbers.", "input": "", "output": "2, 3, 5"}]
    registry.commit(pl.DataFrame(rows), name="raw", lineage={}, root=root)
    v = dedup_version("raw@1", into="dedup", seeds=["List three prime numbers."], root=root)
    assert registry.open(v.ref, root=root)["output"].to_list() == ["Waves."]
    assert v.manifest["lineage"]["drops"] == {"rouge_duplicate": 2}
    assert v.manifest["lineage"]["counts"] == {"before": 3, "after": 1}
