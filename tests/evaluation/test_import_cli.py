"""`selfinstruct eval import-annotations` end to end through click."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from commands.main import cli


@pytest.mark.shared
def test_import_reproduces_alpaca_eval_1_as_json(shared_data):
    path = shared_data / "alpaca_eval" / "alpaca-7b.alpaca_eval_gpt4.annotations.json"
    result = CliRunner().invoke(cli, ["eval", "import-annotations", str(path), "--json", "--n-boot", "200"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["model_a"], data["model_b"], data["judge"]) == ("alpaca-7b", "text_davinci_003", "alpaca_eval_gpt4")
    assert (data["wins"], data["losses"], data["ties"], data["missing"]) == (205, 584, 16, 0)
    assert f"{100 * data['win_rate']:.2f}" == "26.46"
    assert set(data["per_category"]) == {"helpful_base", "koala", "oasst", "selfinstruct", "vicuna"}
    assert data["lc_ci_low"] < data["lc_win_rate"] < data["lc_ci_high"]
    assert all(c["lc_ci_low"] <= c["lc_win_rate"] <= c["lc_ci_high"] for c in data["per_category"].values())


def test_bad_annotation_file_exits_2_with_one_line(tmp_path):
    path = tmp_path / "ann.json"
    path.write_text('[{"instruction": "q", "output_1": "a", "output_2": "b", "preference": "often"}]')
    result = CliRunner().invoke(cli, ["eval", "import-annotations", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and f"{path}:1: field 'preference'" in result.output


def annotations_with_difficulty(tmp_path, n=60):
    """Annotations of n instructions where hard ones (difficulty -3) go to the reference and easy ones (0)
    are a coin toss, with AlpacaEval's CSV of `index,instruction_difficulty` beside them."""
    rows, lines = [], ["index,instruction_difficulty"]
    for i in range(n):
        hard = i % 3 == 0
        rows.append({"instruction": f"Question {i}?", "output_1": "r" * (50 + i % 7), "output_2": "m" * (40 + i % 11),
                     "generator_1": "ref", "generator_2": "model", "annotator": "judge",
                     "preference": 1 if hard or i % 2 else 2})
        lines.append(f"{i},{-3.0 if hard else 0.0}")
    (tmp_path / "ann.json").write_text(json.dumps(rows))
    (tmp_path / "difficulty.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "ann.json", tmp_path / "difficulty.csv"


def test_instruction_difficulty_enters_the_length_controlled_rate_and_its_name(tmp_path):
    import numpy as np

    from evaluation.length_control import controlled_rates, fit_length_model, length_feature

    ann, csv = annotations_with_difficulty(tmp_path)
    run = lambda *extra: CliRunner().invoke(cli, ["eval", "import-annotations", str(ann), "--n-boot", "50", *extra])
    plain, with_d = json.loads(run("--json").output), json.loads(run("--json", "--instruction-difficulty", str(csv)).output)
    assert (plain["lc_model"], with_d["lc_model"]) == ("length", "length+difficulty")
    assert with_d["instruction_difficulty"] == str(csv) and plain["win_rate"] == with_d["win_rate"]
    rows = json.loads(ann.read_text())
    scores = [r["preference"] - 1 for r in rows]
    d = np.array([-3.0 if i % 3 == 0 else 0.0 for i in range(len(rows))])
    feature = length_feature([len(r["output_2"]) for r in rows], [len(r["output_1"]) for r in rows])
    assert with_d["lc_win_rate"] == controlled_rates(np.array(fit_length_model(scores, feature, d)), d)[0]
    assert with_d["lc_win_rate"] != plain["lc_win_rate"]
    table = run("--instruction-difficulty", str(csv)).output
    assert "length-controlled, with instruction difficulty" in table
    assert "length-controlled, our fit (no difficulty)" in run().output


@pytest.mark.parametrize("text, where", [
    ("index,instruction_difficulty\n0,-1\n1,hard\n", ":3: field 'instruction_difficulty' must be a number"),
    ("index,difficulty\n0,1\n", ":1: has no column 'instruction_difficulty'"),
    ("index,instruction_difficulty\n0,-1\n1,0.5\n", ": has no difficulty for position 2 of the annotations"),
])
def test_a_bad_difficulty_file_exits_2_naming_it(tmp_path, text, where):
    ann, csv = annotations_with_difficulty(tmp_path, n=3)
    csv.write_text(text)
    result = CliRunner().invoke(cli, ["eval", "import-annotations", str(ann), "--instruction-difficulty", str(csv)])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0, result.output
    assert f"{csv}{where}" in result.output


def test_difficulty_matched_on_the_instruction_text(tmp_path):
    from evaluation.difficulty import difficulty_for, read_difficulty

    path = tmp_path / "d.csv"
    path.write_text('instruction,instruction_difficulty\n"Name a river, please.",-1.5\nSay hi.,0.25\n')
    table = read_difficulty(path)
    rows = [{"instruction": "Say hi."}, {"instruction": "Name a river, please."}]
    assert difficulty_for(rows, [0, 1], table, path) == [0.25, -1.5]
