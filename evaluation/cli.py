"""`selfinstruct eval`: a thin click layer over the evaluation library."""

from __future__ import annotations

import functools
import json
import sys

import click


def input_errors(f):
    """Bad input files and refused settings end with one line on stderr and exit status 2."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        from registry.errors import RegistryError
        from selfinstruct.errors import SelfInstructError

        try:
            return f(*args, **kwargs)
        except (SelfInstructError, RegistryError, ValueError) as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)

    return wrapper


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


@click.group("eval")
def eval_group() -> None:
    """Evaluate models: judge pairs of answers, read win rates, tie them to dataset versions."""


@eval_group.command("import-annotations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@stats_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@input_errors
def import_annotations_cmd(file, n_boot, seed, as_json):
    """Win rate of generator_2 over generator_1 from an AlpacaEval annotations.json.

    \b
        selfinstruct eval import-annotations results/alpaca-7b/alpaca_eval_gpt4/annotations.json
    """
    from evaluation.imported import import_annotations

    emit(import_annotations(file, n_boot=n_boot, seed=seed), as_json)

