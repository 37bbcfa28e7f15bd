"""Helpers shared by the `selfinstruct eval` commands: the exit-2 errors, statistics options, output."""

from __future__ import annotations

import json

import click

from records.exits import bad_input_on
from registry.errors import RegistryError
from selfinstruct.errors import SelfInstructError


def input_errors(f):
    """Bad input files and refused settings end the command with one line and exit status 2."""
    return bad_input_on(RegistryError, SelfInstructError, ValueError)(f)


def stats_options(f):
    f = click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")(f)
    f = click.option("--n-boot", type=int, default=2000, show_default=True, help="Bootstrap resamples.")(f)
    return f


def emit(results: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        from evaluation.report import print_results

        print_results(results)
