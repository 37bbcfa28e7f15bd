"""Messages a newcomer meets: suggestions for a mistyped option or key, bad input is exit 2, and
inputs are checked before any model is loaded."""

from __future__ import annotations

from click.testing import CliRunner

from commands.main import cli

NO_ENDPOINT = {"OPENAI_API_KEY": None, "OPENAI_BASE_URL": None}


def test_a_prefix_of_an_option_suggests_the_options_it_begins_with_short_names_too():
    result = CliRunner().invoke(cli, ["generate", "--num", "5"])
    assert result.exit_code == 2
    assert "'-n'" in result.output and "'--num-instructions'" in result.output


def test_a_misspelt_finetune_key_gets_a_suggestion(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "a", "input": "", "output": "b"}\n')
    result = CliRunner().invoke(cli, ["finetune", "run", "--dataset", str(data), "--model", str(tmp_path),
                                      "--output", str(tmp_path / "o"), "max_step=3"])
    assert result.exit_code == 2
    assert "max_step (did you mean max_steps?)" in result.output


def test_chat_with_a_missing_model_folder_is_bad_input(tmp_path):
    result = CliRunner().invoke(cli, ["chat", "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "nowhere" in result.output


def test_a_missing_seed_file_is_reported_before_the_built_in_model_is_loaded(tmp_path):
    result = CliRunner().invoke(cli, ["generate", "-n", "2", "-o", str(tmp_path / "o.jsonl"), "--seeds",
                                      str(tmp_path / "missing.jsonl")], env=NO_ENDPOINT)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {tmp_path / 'missing.jsonl'}: no such seed file"
