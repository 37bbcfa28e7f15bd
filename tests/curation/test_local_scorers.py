"""registry score with the offline scorers: a rule, and IFD with a tiny model built in code."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from commands.main import cli
from curation.rule_scores import rule_scores
from registry.layers import list_layers, version_scores


def _version(root):
    frame = pl.DataFrame({"instruction": ["Name a river.", "Write a poem about the sea.", "Sum 2 and 3."],
                          "input": ["", "", ""], "output": ["Nile", "The sea is wide and grey and old.", "5"]})
    return registry.commit(frame, name="d", lineage={"operation": "import"}, root=str(root))


def test_a_rule_scorer_writes_its_layer_and_the_selection_uses_it(tmp_path):
    v = _version(tmp_path)
    r = CliRunner().invoke(cli, ["registry", "score", v.ref, "--scorer", "output_words", "--registry", str(tmp_path),
                                 "--json"])
    assert r.exit_code == 0, r.output
    scored = version_scores(v, ["output_words"], root=str(tmp_path))
    assert scored["output_words"].to_list() == rule_scores(scored.to_dicts(), "output_words") == [1.0, 8.0, 1.0]
    assert list_layers(v, root=str(tmp_path))["output_words"]["scorer"] == {"kind": "rule", "rule": "output_words"}
    again = CliRunner().invoke(cli, ["registry", "score", v.ref, "--scorer", "output_words", "--as", "words2",
                                     "--registry", str(tmp_path), "--json"])
    assert json.loads(again.output)["reused"] == 3


def test_an_unknown_scorer_or_model_folder_is_one_line_exit_2(tmp_path):
    v = _version(tmp_path)
    for args, needle in [(["--scorer", "magic"], "choose judge"), (["--scorer", "ifd", "--model", str(tmp_path)],
                                                                    "not a local checkpoint")]:
        r = CliRunner().invoke(cli, ["registry", "score", v.ref, *args, "--registry", str(tmp_path)])
        assert r.exit_code == 2 and needle in r.output, r.output


@pytest.mark.slow  # a tiny model trained in code, then scored
def test_ifd_with_a_local_checkpoint_is_stored_per_record(tmp_path):
    from curation.lm_scores import score_outputs
    from finetune.templates import load_template

    v = _version(tmp_path)
    model = tmp_path / "tiny"
    made = CliRunner().invoke(cli, ["finetune", "tiny-model", str(model), "--dataset", v.ref, "--registry",
                                    str(tmp_path), "--vocab-size", "300", "--hidden", "32"])
    assert made.exit_code == 0, made.output
    r = CliRunner().invoke(cli, ["registry", "score", v.ref, "--scorer", "ifd", "--model", str(model),
                                 "--registry", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    scored = version_scores(v, ["ifd"], root=str(tmp_path))
    expected, _ = score_outputs(scored.to_dicts(), template=load_template("alpaca"), kind="ifd", model_path=model)
    assert scored["ifd"].to_list() == pytest.approx(expected, rel=1e-5)
    assert list_layers(v, root=str(tmp_path))["ifd"]["scorer"]["kind"] == "ifd"
