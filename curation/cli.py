"""`registry score` and `registry select`: click over curation.score and curation.select.

commands/derive.py mounts both on the `registry` group.
"""

from __future__ import annotations

import json
import sys

import click

from modelcalls.batch_cli import batch_bar, batch_from, batch_options, describe
from records.exits import stopped_short
from registry.cli_common import current_root, json_option, root_option


@click.command("score")
@click.argument("ref")
@click.option("--scorer", required=True, help="judge (an LLM at any OpenAI-compatible endpoint), ifd or perplexity "
                                             "(a local checkpoint in-process), or a rule (see docs/curation.md).")
@click.option("--as", "layer", help="The layer's name (default: the scorer's).")
@click.option("--judge-model", help="judge: the model's name at the endpoint.")
@click.option("--base-url", help="judge: OpenAI-compatible endpoint root [env OPENAI_BASE_URL].")
@click.option("--api-key", help="judge: API key [env OPENAI_API_KEY]. Never written to any file.")
@click.option("--rubric", type=click.Path(dir_okay=False),
              help="judge: a prompt file with {instruction} {input} {output} (default: the shipped rubric).")
@click.option("--concurrency", type=int, default=8, show_default=True, help="judge: requests in flight.")
@click.option("--max-tokens", type=int, default=512, show_default=True, help="judge: completion tokens per reply.")
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True, help="Seconds per attempt.")
@click.option("--rpm", type=float, help="Client-side requests-per-minute limit.")
@click.option("--tpm", type=float, help="Client-side tokens-per-minute limit.")
@click.option("--max-cost", type=float, help="Stop before the run could spend more than this many dollars (exit 3).")
@click.option("--pricing", type=click.Path(dir_okay=False), help="JSON {model: {input, output}} $/1M tokens.")
@click.option("--model", help="ifd/perplexity: a local checkpoint folder (default: the built-in SmolLM2-135M).")
@click.option("--batch-size", type=int, default=16, show_default=True, help="ifd/perplexity: records per forward pass.")
@click.option("--template", help="ifd/perplexity: the training template the prompt is rendered with (default: alpaca).")
@click.option("--max-length", type=int, default=512, show_default=True,
              help="ifd/perplexity: tokens of prompt + output at most (the output keeps its start).")
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="judge: journal folder (default: under the registry root, where the same command finds it).")
@click.option("--dry-run", is_flag=True, help="judge: print requests, tokens and dollars; send nothing.")
@click.option("--replay", is_flag=True, help="judge: build the layer from the journal; send nothing.")
@batch_options
@root_option
@json_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def score_cmd(ref, scorer, layer, api_key, run_dir, dry_run, replay, as_json, quiet, batch, no_wait, poll_interval,
              batch_retry, **options):
    """Score every record of REF and keep the scores as a layer of it.

    \b
        selfinstruct registry score alpaca@1 --scorer judge --judge-model gpt-4o-mini --dry-run
        selfinstruct registry score alpaca@1 --scorer judge --judge-model gpt-4o-mini --max-cost 5
        selfinstruct registry score alpaca@1 --scorer ifd          # offline, the built-in model
        selfinstruct registry score alpaca@1 --scorer passes_all_checks

    Scores already stored for the same record with the same scorer settings (in any layer of REF,
    its ancestors or their other versions) are reused; only the rest is scored. A judge run is
    journaled: the same command resumes without paying twice, --replay rebuilds at no cost.
    """
    from curation.score import plan_version, score_version
    from curation.scorers import build_scorer

    batching = batch_from(batch, no_wait, poll_interval, batch_retry)
    root = current_root()
    if dry_run:
        built = build_scorer(scorer, api_key=api_key, batch=batching, **options)
        return _print_plan(plan_version(ref, built, layer=layer, root=root, run_dir=run_dir), as_json)
    with batch_bar(batching is not None and not (quiet or as_json)) as show:
        built = build_scorer(scorer, api_key=api_key, batch=batching, batch_progress=show, **options)
        result = _with_progress(score_version, ref, built, layer, root, run_dir, replay,
                                quiet or as_json or batching is not None)
    summary = {"version": result.version, "layer": result.layer, "records": result.records,
               "reused": result.reused, "scored": result.scored, "missing": result.missing, "usage": result.usage,
               "stopped_by": result.stopped_by, "run_dir": result.run_dir}
    outcome = getattr(built, "batch_outcome", None)
    if outcome is not None:
        summary["batch"] = outcome.to_dict()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
        if outcome is not None and result.usage:
            for line in describe(summary["batch"], result.usage):
                click.echo(line)
    if result.stopped_by == "batch_pending":
        raise stopped_short(f"no layer written yet: {result.note}")
    if result.stopped_by == "max_cost":
        raise stopped_short(f"stopped by --max-cost {options['max_cost']}: no layer written yet; every reply is "
                            f"journaled in {result.run_dir}: raise --max-cost and run the same command to continue")


def _with_progress(score_version, ref, scorer, layer, root, run_dir, replay, quiet):
    if quiet or not sys.stderr.isatty():
        return score_version(ref, scorer, layer=layer, root=root, run_dir=run_dir, replay=replay)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress("[bold]scored", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), "ETA",
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task("score", total=None)
        return score_version(ref, scorer, layer=layer, root=root, run_dir=run_dir, replay=replay,
                             progress=lambda done, total: bar.update(task, completed=done, total=total))


def _print_summary(s: dict) -> None:
    u = s["usage"] or {}
    written = f"layer {s['layer']!r} of {s['version']}" if not s["stopped_by"] else "no layer yet"
    click.echo(f"{written}: {s['records']:,} records, {s['reused']:,} scores reused, {s['scored']:,} scored now"
               + (f", {sum(s['missing'].values()):,} missing (" + ", ".join(f"{k} {v}" for k, v in
                                                                        sorted(s['missing'].items())) + ")"
                  if s["missing"] else ""))
    if u.get("requests"):
        click.echo(f"requests {u['requests']:,}; tokens {u['prompt_tokens']:,} in + {u['completion_tokens']:,} out; "
                   f"${u['dollars']:.4f}  (journal: {s['run_dir']})")


def _print_plan(p: dict, as_json: bool) -> None:
    if as_json:
        return click.echo(json.dumps(p, indent=2))
    line = f"score {p['version']} as layer {p['layer']!r}: {p['records']:,} records, {p['reused']:,} reused, " \
           f"{p['to_score']:,} to score"
    if "prompt_tokens" in p:
        price = "" if p["price_known"] else "  (no price for this model: counted as $0; see --pricing)"
        batch = f" at batch prices (synchronously ${p['sync_dollars']:.4f})" if p.get("batch") else ""
        line += (f"\n  requests {p['requests']:,} ({p['already_scored']:,} already in the journal)"
                 f"\n  prompt tokens {p['prompt_tokens']:,} ({p['token_counter']}), reply tokens about "
                 f"{p['completion_tokens']:,}\n  expected cost ${p['dollars']:.4f}{batch}, worst case "
                 f"${p['worst_case_dollars']:.4f}{price}")
    click.echo(line)


@click.command("select")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the curated version.")
@click.option("--where", multiple=True, help="LAYER OP NUMBER, e.g. judge>=4.5 (repeatable; all must hold).")
@click.option("--top", type=int, help="Keep the N best-scored records (by --by).")
@click.option("--by", help="The layer --top ranks by.")
@click.option("--ascending", is_flag=True, help="--top keeps the lowest scores (e.g. perplexity).")
@click.option("--stratify-by", help="Share --top among groups: verb (the instruction's leading verb) or a column.")
@root_option
@json_option
def select_cmd(ref, into, where, top, by, ascending, stratify_by, as_json):
    """Commit the records of REF that score layers keep as a new version; the rule goes in its lineage.

    \b
        selfinstruct registry select alpaca@1 --where "judge>=4.5" --into alpaca-good
        selfinstruct registry select alpaca@1 --top 9000 --by judge --stratify-by verb --into alpaca-9k
    """
    from curation.select import select_version
    from registry.cli_derive import report_version

    version = select_version(ref, into=into, where=list(where), top=top, by=by, ascending=ascending,
                             stratify_by=stratify_by, root=current_root())
    report_version(version, as_json)
