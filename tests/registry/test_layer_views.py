"""Score layers as users see them: `registry show`, `registry export --layer` and the datasheet."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from registry.cli import registry as registry_cli
from registry.layer_facts import histogram
from registry.layers import record_hashes, write_layer

JUDGE = {"kind": "judge", "model": "judge-<b>m</b>", "endpoint_host": "127.0.0.1:9", "prompt_sha256": "ab" * 32,
         "decoding": {"temperature": 0.0}}


def add_layer(version, name, scores, reasons, root, scorer=None, frame=None):
    frame = registry.open(version.ref, root=root) if frame is None else frame
    rows = pl.DataFrame({"record": record_hashes(frame), "score": scores, "reason": reasons},
                        schema={"record": pl.String, "score": pl.Float64, "reason": pl.String})
    return write_layer(version, name, rows, scorer=scorer or JUDGE, usage={"requests": len(scores)}, root=root)


@pytest.fixture
def scored(tmp_path):
    """d@1: 6 records, a judge layer (one missing score, a reason holding HTML) and an ifd layer."""
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": [f"Name fruit {i}." for i in range(6)], "input": [""] * 6,
                          "output": [f"Fruit {i}." for i in range(6)]})
    v = registry.commit(frame, name="d", lineage={"operation": "import"}, root=root)
    add_layer(v, "judge", [5.0, 4.5, None, 2.0, 4.5, 0.0],
              ["Fine.", "Good <script>x()</script>", None, "Meh | pipe", "Good.", "Wrong."], root, frame=frame)
    add_layer(v, "ifd", [0.9, 0.5, 1.1, 0.7, 0.8, 0.95], [None] * 6, root,
              scorer={"kind": "ifd", "model": "SmolLM2-135M"}, frame=frame)
    return root, v


def run(root, *args):
    return CliRunner().invoke(registry_cli, ["--registry", root, *args])


def test_show_lists_each_layer_with_its_scorer_and_counts(scored):
    root, v = scored
    r = run(root, "show", v.ref, "--json")
    assert r.exit_code == 0, r.output
    layers = {s["name"]: s for s in json.loads(r.output)["layers"]}
    judge = layers["judge"]
    assert (judge["kind"], judge["model"], judge["records"], judge["scored"], judge["missing"], judge["reused"]) == \
        ("judge", "judge-<b>m</b>", 6, 5, 1, 0)
    assert judge["mean"] == 3.2 and judge["has_reasons"] and not layers["ifd"]["has_reasons"]
    text = run(root, "show", v.ref).output
    assert "score layers" in text and "judge-<b>m</b>" in text
    assert [line.split("│")[3:8] for line in text.splitlines() if line.startswith("│ judge")] == \
        [[" 6       ", " 5      ", " 1       ", " 0      ", " 3.200      "]]


def test_histogram_gives_each_of_few_scores_a_bar_and_bins_many():
    assert [(b["label"], b["count"]) for b in histogram([4.5, 5.0, 4.5, 0.0])] == [("0", 1), ("4.5", 2), ("5", 1)]
    bars = histogram([i / 10 for i in range(101)])  # 0.0 .. 10.0
    assert len(bars) == 10 and sum(b["count"] for b in bars) == 101
    assert bars[0]["label"] == "0-1" and bars[0]["count"] == 10 and bars[-1]["count"] == 11  # the top edge is in the last
    assert histogram([]) == []


def test_a_score_that_is_not_finite_is_counted_apart_from_the_mean_and_histogram(tmp_path):
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["a", "b", "c", "d"], "input": [""] * 4, "output": ["w", "x", "y", "z"]})
    v = registry.commit(frame, name="p", lineage={"operation": "import"}, root=root)
    add_layer(v, "perplexity", [2.0, float("inf"), 4.0, None], [None] * 4, root, frame=frame,
              scorer={"kind": "perplexity", "model": "tiny"})
    layer = json.loads(run(root, "show", v.ref, "--json").output)["layers"][0]
    assert (layer["mean"], layer["not_finite"], layer["missing"]) == (3.0, 1, 1)
    assert [(b["label"], b["count"]) for b in layer["histogram"]] == [("2", 1), ("4", 1)]
    md = run(root, "datasheet", v.ref).output
    assert "| Not finite | 1 of the scores (such as inf), left out of the mean and histogram |" in md
    assert "Distribution of the 2 scores:" in md


def test_export_adds_layers_as_columns_in_every_format_with_columns(scored, tmp_path):
    root, v = scored
    expected = {"judge": [5.0, 4.5, None, 2.0, 4.5, 0.0], "ifd": [0.9, 0.5, 1.1, 0.7, 0.8, 0.95],
                "judge_reason": ["Fine.", "Good <script>x()</script>", None, "Meh | pipe", "Good.", "Wrong."]}

    def check(rows: list[dict]):
        assert [r["instruction"] for r in rows] == [f"Name fruit {i}." for i in range(6)]
        for column, values in expected.items():
            assert [r[column] for r in rows] == values
        assert "ifd_reason" not in rows[0]  # a layer without reasons adds no reason column

    for fmt, name in (("jsonl", "out.jsonl"), ("alpaca-json", "out.json"), ("parquet", "out.parquet")):
        out = tmp_path / name
        r = run(root, "export", v.ref, "--format", fmt, "--output", str(out), "--layer", "judge", "--layer", "ifd")
        assert r.exit_code == 0, r.output
        if fmt == "jsonl":
            check([json.loads(line) for line in out.read_text().splitlines()])
        elif fmt == "alpaca-json":
            check(json.loads(out.read_text()))
        else:
            check(pl.read_parquet(out).to_dicts())
    hf = tmp_path / "hf"
    r = run(root, "export", v.ref, "--format", "hf", "--output", str(hf), "--layer", "judge", "--layer", "ifd")
    assert r.exit_code == 0, r.output
    check(pl.read_parquet(hf / "data" / "train-00000-of-00001.parquet").to_dicts())
    card = (hf / "README.md").read_text()
    features = card.split("features:", 1)[1].split("splits:", 1)[0]
    assert [line.strip() for line in features.splitlines() if "name:" in line][-3:] == \
        ["- name: judge", "- name: judge_reason", "- name: ifd"]
    assert "dtype: float64" in features and "### Layer `judge`" in card


@pytest.mark.parametrize("args, message", [
    (["--format", "jsonl", "--layer", "nope"], "d@1 has no layer 'nope' (it has ifd, judge)"),
    (["--format", "messages", "--layer", "judge"], "--layer adds columns, and the messages format has no place"),
])
def test_export_refuses_an_unknown_layer_or_a_format_without_columns_in_one_line(scored, tmp_path, args, message):
    root, v = scored
    out = tmp_path / "out.jsonl"
    r = run(root, "export", v.ref, "--output", str(out), *args)
    assert r.exit_code == 2 and message in r.output and len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output and not out.exists()


def test_export_refuses_a_layer_named_like_a_column_of_the_version(tmp_path):
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["a", "b"], "input": ["", ""], "output": ["x", "y"], "judge": ["p", "q"]})
    v = registry.commit(frame, name="c", lineage={"operation": "import"}, root=root)
    add_layer(v, "judge", [1.0, 2.0], [None, None], root, frame=frame)
    r = run(root, "export", v.ref, "--format", "jsonl", "--output", str(tmp_path / "o.jsonl"), "--layer", "judge")
    assert r.exit_code == 2 and "already has a column named 'judge'" in r.output


def test_the_datasheet_shows_each_layer_with_its_scorer_counts_and_histogram(scored, tmp_path):
    root, v = scored
    r = run(root, "datasheet", v.ref, "--html", str(tmp_path / "sheet.html"), "--output", str(tmp_path / "sheet.md"))
    assert r.exit_code == 0, r.output
    md = (tmp_path / "sheet.md").read_text()
    section = md.split("## Score layers", 1)[1].split("## Uses", 1)[0]
    judge = section.split("### Layer `judge`", 1)[1]
    assert "| Scorer | judge, model judge-&lt;b&gt;m&lt;/b&gt; |" in judge
    assert "| Records | 6: 5 scored, 1 missing (no readable score), 0 reused from earlier layers |" in judge
    assert "| Mean score | 3.200 (min 0, max 5) |" in judge
    bars = [line for line in judge.splitlines() if line.startswith("| 4.5 |") or line.startswith("| 0 |")]
    assert bars == ["| 0 | 1 | " + "█" * 15 + " |", "| 4.5 | 2 | " + "█" * 30 + " |"]
    assert "### Layer `ifd`" in section and "| Scorer | ifd, model SmolLM2-135M |" in section
    page = (tmp_path / "sheet.html").read_text()
    for name in ("ifd", "judge"):  # the plot stands in place of the text histogram
        layer = page.split(f"<h3>Layer <code>{name}</code></h3>", 1)[1].split("<h", 1)[0]
        assert layer.count("<figure><svg") == 1 and f"<figcaption>Scores of layer {name}</figcaption>" in layer
    assert "Distribution of the" not in page and "█" not in page
    assert "<b>m</b>" not in page and "judge-&lt;b&gt;m&lt;/b&gt;" in page


def test_a_version_without_layers_says_how_to_add_one(tmp_path):
    root = str(tmp_path / "reg")
    v = registry.commit(pl.DataFrame({"instruction": ["a"], "input": [""], "output": ["b"]}), name="e",
                        lineage={"operation": "import"}, root=root)
    md = run(root, "datasheet", v.ref).output
    assert "No score layers yet. Add one with `selfinstruct registry score e@1`." in md
    assert json.loads(run(root, "show", v.ref, "--json").output)["layers"] == []


def damage(root, version, name, *, manifest: bool):
    """Edit a layer after it was written: its manifest's counts, or its rows."""
    from registry.layers import list_layers

    info = list_layers(version, root=root)[name]
    if manifest:
        path = next(Path(root, "datasets", version.name, "layers").rglob(f"{name}.json"))
        data = json.loads(path.read_text())
        data["missing"] = 0
        path.chmod(0o644)
        path.write_text(json.dumps(data))
        return path
    path = Path(root, info["object"]["path"])
    path.chmod(0o644)
    pl.read_parquet(path).with_columns(pl.lit(5.0).alias("score")).write_parquet(path)
    return path


@pytest.mark.parametrize("manifest", [True, False], ids=["manifest edited", "rows edited"])
def test_a_damaged_layer_is_left_out_and_named_while_the_rest_is_shown(scored, tmp_path, manifest):
    root, v = scored
    damage(root, v, "judge", manifest=manifest)
    r = CliRunner().invoke(registry_cli, ["--registry", root, "show", v.ref, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [s["name"] for s in data["layers"]] == ["ifd"] and len(data["damaged_layers"]) == 1
    assert "judge" in data["damaged_layers"][0] and "warning: left out a damaged score layer" in r.stderr
    md = run(root, "datasheet", v.ref).output
    assert "Left out, damaged (run `selfinstruct registry verify`):" in md and "### Layer `ifd`" in md
    assert "### Layer `judge`" not in md
    out = tmp_path / "o.jsonl"
    r = run(root, "export", v.ref, "--format", "jsonl", "--output", str(out), "--layer", "judge")
    assert r.exit_code == 2 and "judge" in r.output and not out.exists()  # an export never silently drops it
