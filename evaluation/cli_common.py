"""Helpers shared by the `selfinstruct eval` commands: statistics options, output."""

from __future__ import annotations

import json

import click



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
