"""Every command answers --help with a summary line."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from selfinstruct.cli import cli


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
