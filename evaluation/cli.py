"""`selfinstruct eval`: a thin click layer over the evaluation library."""

from __future__ import annotations

import json

import click

from records.exits import CommandGroup

from evaluation.cli_answer import answer_command
from evaluation.cli_common import emit, stats_options
from evaluation.cli_judge import compare_cmd, judge_cmd, record_answers_cmd
from registry.cli_common import root_option


@click.group("eval", cls=CommandGroup)
def eval_group() -> None:
    """Evaluate models: judge pairs of answers, read win rates, tie them to dataset versions.

    \b
    Example:
        selfinstruct eval answer --model runs/tiny --set user_oriented_instructions.jsonl -o mine.json
        selfinstruct eval judge --a mine.json --b theirs.json --judge-model gpt-4o-mini -o cmp/
    """


@eval_group.command("import-annotations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--instruction-difficulty", "difficulty", type=click.Path(exists=True, dir_okay=False),
              help="AlpacaEval's instruction_difficulty.csv (from the Hub): the length-controlled rate then "
                   "has AlpacaEval 2's difficulty term; without it, it is our fit on length alone.")
@stats_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def import_annotations_cmd(file, difficulty, n_boot, seed, as_json):
    """Win rate of generator_2 over generator_1 from an AlpacaEval annotations.json.

    \b
        selfinstruct eval import-annotations results/alpaca-7b/alpaca_eval_gpt4/annotations.json
        selfinstruct eval import-annotations annotations.json --instruction-difficulty instruction_difficulty.csv
    """
    from evaluation.imported import import_annotations

    emit(import_annotations(file, difficulty=difficulty, n_boot=n_boot, seed=seed), as_json)



@eval_group.command("sets")
@click.argument("sources", nargs=-1)
@click.option("--into", "into", metavar="NAME", help="Commit the one set given to the registry as a version of NAME.")
@root_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sets_cmd(sources, into, as_json):
    """List evaluation sets: the files or registry references given, and the registry's datasets.

    \b
        selfinstruct eval sets user_oriented_instructions.jsonl
        selfinstruct eval sets user_oriented_instructions.jsonl --into selfinstruct-eval
        selfinstruct eval sets selfinstruct-eval@1 --json
    """
    from registry.browse import list_summary
    from registry.cli_common import current_root

    from evaluation.sets import commit_set, load_set

    root = current_root()
    if into and len(sources) != 1:
        raise click.UsageError("--into commits exactly one set: give one file")
    loaded = [load_set(s, root=root) for s in sources]
    out = {"sets": [s.summary() for s in loaded]}
    if into:
        out["committed"] = commit_set(loaded[0], into, root=root)
    if not sources:
        out["registry"] = [{"ref": f"{d['name']}@{d['latest']}", "rows": d["versions"][-1]["rows"]}
                           for d in list_summary(root=root)]
    if as_json:
        return click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    for s in out["sets"]:
        cats = ", ".join(f"{k} {v}" for k, v in sorted(s["categories"].items(), key=lambda kv: -kv[1])[:8])
        click.echo(f"{s['source']}: {s['format']}, {s['items']} instructions ({s['with_reference']} with a "
                   f"reference answer), sha256 {s['sha256'][:12]}" + (f"; categories: {cats}" if cats else ""))
    if "committed" in out:
        click.echo(f"committed {out['committed']}")
    if "registry" in out:
        if not out["registry"]:
            click.echo("no registry datasets (give files, or set --registry / $SELFINSTRUCT_REGISTRY)")
        for d in out["registry"]:
            click.echo(f"{d['ref']}: {d['rows']:,} rows (registry)")


for command in (judge_cmd, compare_cmd, record_answers_cmd, answer_command):
    eval_group.add_command(command)
