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
