"""Every command answers --help with a summary line and an example."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from commands.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)


@pytest.mark.parametrize("path", [(), *list(_commands(cli))], ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    cmd = cli
    for name in path:
        cmd = cmd.commands[name]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
    body = result.output.split("Usage:", 1)[1].split("\n", 1)[1]  # the text after the usage line
    assert re.search(r"selfinstruct\s+\S", body), f"{' '.join(path)} --help shows no example"


def test_finetune_run_help_lists_recipes_and_keys_and_generate_help_exit_codes():
    run = CliRunner().invoke(cli, ["finetune", "run", "--help"]).output
    assert "alpaca-7b, llama-1b, lora, tiny-cpu" in run
    assert all(key in run for key in ("max_steps,", "learning_rate", "packing", "keep_checkpoints"))
    generate = CliRunner().invoke(cli, ["generate", "--help"]).output
    assert all(f"  {code}  " in generate or f"  {code} " in generate for code in ("0", "1", "2", "3", "130"))
