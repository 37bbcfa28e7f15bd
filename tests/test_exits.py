"""One way errors reach users of every command: one line, no traceback, the same exit statuses."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from records.errors import InputError
from records.errors import SelfInstructError
from records.exits import BAD_INPUT, FAILED, CommandGroup, fail


class Refused(SelfInstructError):
    exit_status = BAD_INPUT


def _command(error: Exception):
    @click.group(cls=CommandGroup)
    def group():
        pass

    @group.command()
    def run():
        raise error

    return group


@pytest.mark.parametrize("error, shown", [
    (InputError("data.jsonl", "is missing", line=3, field="output"), "data.jsonl:3: field 'output' is missing"),
    (PermissionError(13, "Permission denied", "/out/x.json"), "/out/x.json: Permission denied"),
    (Refused("no such dataset 'a@9'"), "no such dataset 'a@9'"),
])
def test_bad_input_is_one_line_and_exit_2(error, shown):
    result = CliRunner().invoke(_command(error), ["run"])
    assert result.exit_code == BAD_INPUT
    assert result.output == f"Error: {shown}\n"


def test_other_errors_are_not_taken_for_bad_input():
    result = CliRunner().invoke(_command(RuntimeError("bug")), ["run"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)  # a bug keeps its traceback


def test_failure_loses_url_credentials():
    failure = fail(ConnectionError("cannot reach https://user:s3cret@api.example.com/v1"))
    assert failure.exit_code == FAILED
    assert "s3cret" not in failure.message and "api.example.com" in failure.message
