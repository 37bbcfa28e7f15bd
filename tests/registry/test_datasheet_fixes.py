"""Datasheet facts: placeholder inputs counted apart, no Python None, Hub YAML that datasets accepts."""

from __future__ import annotations

import io
import logging

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from registry.cli import registry as registry_group
from registry.datasheet import render_markdown
from registry.stats import basic_stats, length_summary

from .conftest import make_frame


def test_placeholder_inputs_are_reported_apart_from_real_ones(root):
    inputs = ["", "No input", "<noinput>", "N/A", "three real words", "None", "two words", "No input required."]
    frame = pl.DataFrame({"instruction": [f"Task {i}" for i in range(8)], "input": inputs,
                          "output": ["ok"] * 8})
    stats = basic_stats(frame)
    assert (stats["share_with_input"], stats["placeholder_inputs"], stats["share_with_real_input"]) == (0.875, 5, 0.25)
    assert stats["input_words_mean_real"] == 2.5
    assert length_summary(frame)["input (real inputs only)"]["mean"] == 2.5
    v = registry.commit(frame, name="notes", lineage={}, root=root)
    sheet = render_markdown(v, root=root)
    assert "of which 5 are placeholders" in sheet and "25.0% have a real input" in sheet
    assert "2.50 over instances with a real input" in sheet


@pytest.mark.shared
def test_alpaca_placeholder_inputs(shared_data):
    frame = pl.read_ndjson(shared_data / "alpaca_data.jsonl")
    stats = basic_stats(frame)
    assert frame.height == 52_002 and stats["placeholder_inputs"] == 674
    assert stats["input_words_mean"] == 3.9356 and stats["input_words_mean_real"] == 10.1729


def test_datasheet_never_prints_python_none(root):
    v = registry.commit(make_frame(20), name="notes", root=root,
                        lineage={"operation": None, "generator": {"model": "text-davinci-003", "provider": None}})
    registry.record_use(v.ref, {"kind": "finetune", "model": None, "output": None}, root=root)
    sheet = render_markdown(v, root=root)
    assert "None" not in sheet and "generator text-davinci-003 |" in sheet  # the HTML page renders this text


def test_hf_export_yaml_is_accepted_by_datasets(root, tmp_path):
    datasets = pytest.importorskip("datasets", reason="the `datasets` library is a dev-only dependency")
    registry.commit(make_frame(20), name="notes", lineage={}, root=root)
    out = tmp_path / "hf"
    from registry.export import export

    export("notes@1", "hf", out, root=root)
    assert "num_bytes:" in (out / "README.md").read_text()
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger = logging.getLogger("datasets")
    logger.addHandler(handler)
    try:
        loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    finally:
        logger.removeHandler(handler)
    assert loaded.num_rows == 20
    assert "malformed" not in log.getvalue() and "Ignoring" not in log.getvalue(), log.getvalue()


def test_a_reference_with_nothing_after_at_is_refused(root):
    registry.commit(make_frame(5), name="alpaca", lineage={}, root=root)
    result = CliRunner().invoke(registry_group, ["--registry", root, "show", "alpaca@"])
    assert result.exit_code == 2 and "nothing after '@'" in result.output
    with pytest.raises(registry.UnsafeNameError):
        registry.resolve("alpaca@", root=root)
