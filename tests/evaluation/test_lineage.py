"""Evaluations recorded against a fine-tuned model's training run, and `eval compare` between versions."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from finetune.config import load_config
from finetune.export import render_model_card
from finetune.dataset import DatasetSource
from finetune.train import finish_use, start_use
from registry.datasheet import render_markdown
from commands.main import cli
from tests.evaluation.test_judge import write_answers
from tests.judge_server import JudgeServer


def finetuned_model(tmp_path: Path, ref: str, root: str, name: str) -> Path:
    """A model folder with the model card and registry use that `finetune run` writes (weights left out)."""
    output = tmp_path / name
    output.mkdir()
    config = load_config(None, [], dataset=ref, model="tiny-base", output=str(output), registry=root)
    version = registry.resolve(ref, root=root)
    run = {"dataset": version.ref, "content_hash": f"sha256:{version.hash}", "from_registry": True, "steps": 2,
           "final_loss": 1.5, "eval_loss": None, "accumulation": 1, "processes": 1, "precision": "fp32",
           "train_examples": 3, "eval_examples": 0, "padded_share": 0.1, "device": "cpu",
           "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00"}
    (output / "README.md").write_text(render_model_card(config, run))
    source = DatasetSource(ref=version.ref, content_hash=run["content_hash"], from_registry=True)
    finish_use(start_use(config, source, output, run["started"], None), run, config)
    return output


@pytest.fixture
def two_versions(tmp_path):
    root = str(tmp_path / "registry")
    frame = pl.DataFrame({"instruction": ["a", "b", "c"], "input": ["", "", ""], "output": ["x", "y", "z"]})
    registry.commit(frame, name="ds", lineage={"operation": "import"}, root=root)
    registry.commit(frame.head(2), name="ds", lineage={"operation": "import"}, root=root)
    return root


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_compare_says_what_is_missing_then_judges_and_records(tmp_path, two_versions):
    root = two_versions
    r = invoke("eval", "compare", "ds@1", "ds@2", "--judge-model", "j", "-o", tmp_path / "cmp", "--registry", root)
    assert r.exit_code == 2 and "no model trained on ds@1" in r.output

    model_1 = finetuned_model(tmp_path, "ds@1", root, "m1")
    model_2 = finetuned_model(tmp_path, "ds@2", root, "m2")
    r = invoke("eval", "compare", "ds@1", "ds@2", "--judge-model", "j", "-o", tmp_path / "cmp", "--registry", root)
    assert r.exit_code == 2 and "none has a recorded answers file" in r.output and str(model_1.resolve()) in r.output

    n = 8
    answers_1 = write_answers(tmp_path / "m1.json", "m1", [1] * n)
    answers_2 = write_answers(tmp_path / "m2.json", "m2", [3] * (n - 2) + [1, 1])
    other_set = write_answers(tmp_path / "m2-other.json", "m2", [3] * (n + 1))  # one instruction more
    for folder, answers in ((model_1, answers_1), (model_2, other_set)):
        r = invoke("eval", "record-answers", folder, answers, "--set-name", "toy", "--registry", root)
        assert r.exit_code == 0, r.output
    r = invoke("eval", "compare", "ds@1", "ds@2", "--judge-model", "j", "-o", tmp_path / "cmp", "--registry", root)
    assert r.exit_code == 2 and "no evaluation set was answered on both sides" in r.output
    r = invoke("eval", "record-answers", model_2, answers_2, "--set-name", "toy", "--registry", root)
    assert r.exit_code == 0, r.output

    with JudgeServer() as server:
        r = invoke("eval", "compare", "ds@1", "ds@2", "--judge-model", "judge-x", "-o", tmp_path / "cmp",
                   "--base-url", server.url, "--api-key", "sk-test", "--registry", root, "--json", "--n-boot", "200")
    assert r.exit_code == 0, r.output
    results = json.loads(r.output)
    assert results["versions"] == {"a": "ds@1", "b": "ds@2"} and results["recorded_in"] == ["ds@1", "ds@2"]
    assert results["win_rate"] == pytest.approx(1 / n)  # the model trained on ds@2 wins 7 of 8

    evals = {v: [u for u in registry.list_uses(registry.resolve(v, root=root), root=root) if u["kind"] == "evaluation"]
             for v in ("ds@1", "ds@2")}
    e2 = evals["ds@2"][0]
    assert e2["win_rate"] == pytest.approx(1 - 1 / n) and e2["against"] == "m1" and e2["judge"] == "judge-x"
    assert e2["ci_low"] <= e2["win_rate"] <= e2["ci_high"] and e2["set_name"] == "toy"
    assert e2["model_output"] == str(model_2.resolve())
    e1 = evals["ds@1"][0]  # the same result from the other side: both intervals mirrored
    assert e2["lc_ci_low"] <= e2["lc_win_rate"] <= e2["lc_ci_high"]
    assert (e1["lc_ci_low"], e1["lc_ci_high"]) == pytest.approx((1 - e2["lc_ci_high"], 1 - e2["lc_ci_low"]))

    sheet = render_markdown(registry.resolve("ds@2", root=root), root=root)
    section = sheet.split("## Models trained on this version")[1].split("\n## ")[0]
    assert str(model_2.resolve()) in section and "87.5%" in section and "judge-x" in section and "m1" in section
    shown = invoke("registry", "show", "ds@2", "--registry", root, "--json")
    assert json.loads(shown.output)["trained_models"][0]["evaluations"][0]["win_rate"] == pytest.approx(0.875)


def test_a_model_trained_on_a_file_has_no_version_to_record_against(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "README.md").write_text("---\ntraining_data:\n  dataset: data.jsonl\n  from_registry: false\n---\n")
    answers = write_answers(tmp_path / "a.json", "m", [1, 2])
    r = invoke("eval", "record-answers", folder, answers)
    assert r.exit_code == 2 and "trained on a file" in r.output


def test_compare_uses_the_model_named_on_each_side(tmp_path, two_versions):
    root = two_versions
    old_1 = finetuned_model(tmp_path, "ds@1", root, "old1")
    model_2 = finetuned_model(tmp_path, "ds@2", root, "m2")
    new_1 = finetuned_model(tmp_path, "ds@1", root, "new1")
    n = 6
    for folder, generator, answer in ((old_1, "old1", [3] * n), (new_1, "new1", [1] * n), (model_2, "m2", [2] * n)):
        r = invoke("eval", "record-answers", folder, write_answers(tmp_path / f"{generator}.json", generator, answer),
                   "--set-name", "toy", "--registry", root)
        assert r.exit_code == 0, r.output
    args = ["eval", "compare", "ds@1", "ds@2", "--judge-model", "j", "--registry", root, "--json", "--n-boot", "100"]
    with JudgeServer() as server:
        server_args = ["--base-url", server.url, "--api-key", "sk-test"]
        runs = {folder: invoke(*args, "-o", tmp_path / folder.name, "--model-a", folder, "--model-b", model_2,
                               *server_args) for folder in (old_1, new_1)}
    for folder, r in runs.items():
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["models"] == {"a": str(folder.resolve()), "b": str(model_2.resolve())}
    # the judge prefers the higher quality: old1's answers (3) beat m2's (2), new1's (1) lose to them
    assert json.loads(runs[old_1].output)["win_rate"] > json.loads(runs[new_1].output)["win_rate"]

    stray = invoke(*args, "-o", tmp_path / "c3", "--model-b", tmp_path / "nowhere")
    assert stray.exit_code == 2 and "is not a model recorded as trained on ds@2" in stray.output
    assert str(model_2.resolve()) in stray.output  # names the models that are recorded
