"""A version's stored facts: equal to what its rows say, rebuilt when missing, never believed when altered,
named by verify and kept (or collected) by gc like the version's other objects."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import polars as pl

import registry
from records.schema import RECORD_FIELDS
from registry.datasheet import render_markdown
from registry.facts import content_facts
from registry.gc import gc
from registry.row_facts import facts_relpath, read_facts
from registry.stats import arrow_bytes, basic_stats, length_summary, verb_analysis, word_lengths
from registry.verify import verify
from registry.versions import as_store


def varied_frame(n: int = 130) -> pl.DataFrame:
    """Rows with inputs, placeholders, repeated verbs, questions and long outputs (a few far longer)."""
    verbs = ["Write", "List", "Explain", "What is", "Please rewrite", "Give", "Describe"]
    return pl.DataFrame({
        "instruction": [f"{verbs[i % 7]} the {['poem', 'list', 'topic'][i % 3]} number {i}." for i in range(n)],
        "input": ["<noinput>" if i % 11 == 0 else (f"text {i} " * (i % 5) if i % 3 == 0 else "") for i in range(n)],
        "output": ["word " * (i % 23 + (400 if i % 50 == 7 else 0)) for i in range(n)],
    })


def facts_file(root: str, version) -> Path:
    return Path(root) / facts_relpath(version.hash)


def old_length_bins(values: list[int]) -> dict:
    """The words-per-field histogram as the datasheet drew it from every row before facts were stored."""
    ordered = sorted(values)
    cap = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 1
    step = max(1, -(-(cap + 1) // 40))
    clipped = Counter(min(v, cap) for v in values)
    starts = range(0, cap + step, step)
    return {"cap": cap, "step": step, "counts": [sum(clipped[w] for w in range(s, s + step)) for s in starts]}


def test_stored_facts_say_what_the_rows_say(root):
    frame = varied_frame()
    v = registry.commit(frame, name="mix", lineage={"operation": "import"}, root=root)
    stored = read_facts(as_store(root), v.hash)
    assert stored is not None  # written by the commit itself
    facts = content_facts(v, root=root)
    rows = registry.open("mix@1", root=root)
    old = {"stats": basic_stats(rows), "lengths": length_summary(rows), "verbs": verb_analysis(rows),
           "arrow_bytes": arrow_bytes(rows)}
    assert {k: facts[k] for k in old} == json.loads(json.dumps(old))
    assert facts["length_bins"] == {c: old_length_bins(word_lengths(rows, c)) for c in RECORD_FIELDS}
    assert facts["length_bins"]["output"]["cap"] < max(word_lengths(rows, "output"))  # the clip is exercised


def test_a_version_without_stored_facts_renders_the_same_datasheet_and_stores_them(root):
    v = registry.commit(varied_frame(), name="mix", lineage={"operation": "import"}, root=root)
    with_facts = render_markdown(v, root=root)
    facts_file(root, v).unlink()  # as a version committed by a release that stored no facts
    assert render_markdown(v, root=root) == with_facts
    assert facts_file(root, v).is_file()  # the first reader stored them


def test_altered_facts_are_not_believed_and_verify_names_them(root):
    v = registry.commit(varied_frame(), name="mix", lineage={"operation": "import"}, root=root)
    truth = content_facts(v, root=root)["stats"]
    path = facts_file(root, v)
    body = json.loads(path.read_text())
    body["facts"]["stats"]["rows"] = 999_999
    path.write_text(json.dumps(body))
    assert content_facts(v, root=root)["stats"] == truth
    report = verify("mix", root=root)
    assert [(p.path, "edited after it was written" in p.problem) for p in report.problems] == [(str(path), True)]


def test_gc_keeps_the_facts_of_live_versions_and_collects_those_of_retired_ones(root):
    first = registry.commit(varied_frame(40), name="mix", lineage={"operation": "import"}, root=root)
    second = registry.commit(varied_frame(60), name="mix", lineage={"operation": "import"}, root=root)
    old = os.path.getmtime(facts_file(root, first)) - 7200
    for path in Path(root, "objects").rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    assert gc(root=root, dry_run=True, grace_s=3600).objects == []  # every version is live
    plan = gc(root=root, dry_run=False, keep_last=1, grace_s=3600)
    assert facts_relpath(first.hash) in plan.objects and not facts_file(root, first).exists()
    assert facts_relpath(second.hash) not in plan.objects and facts_file(root, second).is_file()
    assert verify(root=root).ok


def old_parent_share(root: str, version) -> list[dict]:
    """Each parent's share as the datasheet counted it from both versions' rows before facts were stored."""
    from records.hashing import row_digests

    mine = row_digests(registry.open(version.ref, root=root))
    out = []
    for p in version.parents:
        theirs = set(row_digests(registry.open(p, root=root)))
        shared = sum(1 for d in mine if d in theirs)
        out.append({"parent": p, "shared": shared, "share": round(shared / max(1, len(mine)), 4),
                    "parent_rows": len(theirs)})
    return out


def test_parent_shares_counted_at_commit_equal_those_counted_from_the_rows(root):
    frame = varied_frame(130)
    registry.commit(frame.slice(0, 80), name="a", lineage={"operation": "import"}, root=root)
    # b repeats a record, and shares shards with rows that are not its own (those of a@1 it left out)
    b = pl.concat([frame.slice(60, 70), frame.slice(60, 1)])
    registry.commit(b, name="b", parents=["a@1"], lineage={"operation": "import"}, root=root)
    child = pl.concat([frame.slice(10, 30), frame.slice(100, 20), frame.slice(0, 5)])
    v = registry.commit(child, name="c", parents=["a@1", "b@1"], lineage={"operation": "import"}, root=root)
    assert set(read_facts(as_store(root), v.hash)["parent_shares"]) == {registry.resolve(p, root=root).hash
                                                                          for p in ("a@1", "b@1")}
    expected = old_parent_share(root, v)
    assert [s["shared"] for s in expected] == [35, 20]
    assert content_facts(v, root=root)["parent_share"] == expected
    # The same rows under other parents: the stored facts count none for them, so they are counted.
    w = registry.commit(child, name="d", parents=["b@1"], lineage={"operation": "import"}, root=root)
    assert w.hash == v.hash and content_facts(w, root=root)["parent_share"] == old_parent_share(root, w)
    facts_file(root, v).unlink()  # a version without stored facts: counted from the rows
    assert content_facts(v, root=root)["parent_share"] == expected


def test_a_datasheet_of_versions_with_stored_facts_reads_none_of_their_rows(root, monkeypatch):
    frame = varied_frame(90)
    registry.commit(frame.slice(0, 60), name="mix", lineage={"operation": "import"}, root=root)
    child = registry.commit(frame.slice(30, 60), name="mix", parents=["mix@1"], lineage={"operation": "import"},
                            root=root)
    expected = render_markdown(child, root=root)

    def refuse(*args, **kwargs):
        raise AssertionError("a version's rows were read")

    from registry import facts, row_facts

    monkeypatch.setattr(facts, "open_version", refuse)
    monkeypatch.setattr(row_facts, "open_version", refuse)
    assert render_markdown(child, root=root) == expected


def test_length_histograms_draw_one_bar_per_bin_with_its_count():
    from registry.plots import length_histograms

    svg = length_histograms({"input": {"cap": 3, "step": 1, "counts": [2, 0, 1, 1]},
                             "output": {"cap": 79, "step": 2, "counts": [5] * 40}})
    assert svg.count("<svg") == 1 and svg.count("<rect") == 44
    assert "<title>0 words: 2</title>" in svg and "<title>78-79 words: 5</title>" in svg
    assert "input (words, clipped at p99=3)" in svg and "output (words, clipped at p99=79)" in svg
