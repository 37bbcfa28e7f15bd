"""`diff` counts planted additions, removals and edits by record hash."""

from __future__ import annotations

import polars as pl

import registry
from registry.diff import diff

from .conftest import make_frame


def test_diff_counts_planted_changes(root):
    base = make_frame(300)
    rows = base.to_dicts()
    for i in range(0, 40, 4):  # 10 output edits (same instruction)
        rows[i]["output"] += " Corrected."
    rows[100]["instruction"] = rows[100]["instruction"].replace("short", "brief")  # same output -> paired
    removed = {200, 201, 202, 203, 204}
    rows = [r for k, r in enumerate(rows) if k not in removed]
    added = [{"instruction": f"Name a fruit whose name begins with {c}.", "input": "", "output": f"{c}pple-like"}
             for c in "ABCDEFG"]
    child = pl.DataFrame(rows + added)
    registry.commit(base, name="d", lineage={"operation": "import"}, root=root)
    registry.commit(child, name="d", lineage={"operation": "edit"}, parents=["d@1"], root=root)
    d = diff("d@1", "d@2", root=root)
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == (7, 5, 11, 300 - 5 - 11)
    assert d["changed_fields"] == {"instruction": 1, "input": 0, "output": 10}
    assert d["stats"]["rows"] == {"a": 300, "b": 302, "delta": 2}
    assert d["lineage"]["operation"] == {"a": "import", "b": "edit"}


def test_diff_of_identical_versions_is_empty(root, frame):
    registry.commit(frame, name="d", lineage={}, root=root)
    registry.commit(frame, name="d", lineage={}, root=root)
    d = diff("d@1", "d@2", root=root)
    assert (d["added"], d["removed"], d["changed"], d["unchanged"]) == (0, 0, 0, frame.height)
    assert d["a_hash"] == d["b_hash"]


def test_in_place_replacement_pairs_as_changed(root):
    base = make_frame(50)
    rows = base.to_dicts()
    rows[20] = {"instruction": "Completely different task.", "input": "", "output": "Different answer."}
    registry.commit(base, name="d", lineage={}, root=root)
    registry.commit(pl.DataFrame(rows), name="d", lineage={}, root=root)
    d = diff("d@1", "d@2", root=root)
    assert (d["added"], d["removed"], d["changed"]) == (0, 0, 1)
    assert d["pairing"]["same_position"] == 1


def test_diff_rows_and_cli_show_output_agree(root, tmp_path):
    import json

    from click.testing import CliRunner

    from registry.diff import compare, diff_rows
    from commands.main import cli

    base = make_frame(30)
    rows = base.to_dicts()
    rows[3]["output"] = "An edited answer about topic 3."
    del rows[10]
    rows.append({"instruction": "Name a colour.", "input": "", "output": "Teal"})
    registry.commit(base, name="d", lineage={}, root=root)
    registry.commit(pl.DataFrame(rows), name="d", lineage={}, root=root)
    got = diff_rows(compare("d@1", "d@2", root=root))
    assert [(r["kind"], r.get("a_row"), r.get("b_row")) for r in got] == [
        ("added", None, 29), ("removed", 10, None), ("changed", 3, 3)]
    assert got[2]["fields"] == ["output"] and got[2]["after"]["output"] == "An edited answer about topic 3."
    out = tmp_path / "changed.jsonl"
    result = CliRunner().invoke(cli, ["registry", "diff", "d@1", "d@2", "--registry", root, "--show", "changed",
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == [got[2]]
    result = CliRunner().invoke(cli, ["registry", "diff", "d@1", "d@2", "--registry", root, "--show", "added"])
    assert [json.loads(line)["after"]["instruction"] for line in result.output.splitlines()] == ["Name a colour."]


def test_shared_rows_by_join_equals_record_hashes():
    """The join on text columns decides shared rows exactly as record hashes do (nulls, empties, duplicates)."""
    import random

    from registry.diff import shared_rows
    from records.hashing import row_digests

    rng = random.Random(0)
    values = [None, "", "a", "b", "a b", " a"]

    def frame(n):
        return pl.DataFrame({c: [rng.choice(values) for _ in range(n)] for c in ("output", "instruction", "input")},
                            schema={c: pl.String for c in ("output", "instruction", "input")})

    for _ in range(20):
        fa, fb = frame(rng.randint(0, 40)), frame(rng.randint(0, 40)).select("instruction", "input", "output")
        da, db = row_digests(fa), row_digests(fb)
        assert shared_rows(fa, fb) == ([d in set(db) for d in da], [d in set(da) for d in db])
