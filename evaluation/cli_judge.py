"""`selfinstruct eval judge | compare | record-answers`: judging and lineage (click layer only)."""

from __future__ import annotations

import json

import click

from evaluation.cli_common import emit, stats_options
from modelcalls.batch_cli import batch_bar, batch_from, batch_options, describe
from records.exits import stopped_short
from registry.cli_common import current_root, root_option


def judge_options(f):
    """Options every judging command shares: the endpoint, the prompt, limits and money."""
    options = [
        click.option("--judge-model", required=True, help="The judge's model name at the endpoint."),
        click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
                     help="Folder for annotations.json, results.json and the journal (judge.run/)."),
        click.option("--base-url", help="OpenAI-compatible endpoint root [env OPENAI_BASE_URL]."),
        click.option("--api-key", help="API key [env OPENAI_API_KEY]. Never written to any file."),
        click.option("--judge-prompt", type=click.Path(exists=True, dir_okay=False),
                     help="Prompt file with {instruction} {input} {output_a} {output_b} (default: the shipped one)."),
        click.option("--concurrency", type=int, default=8, show_default=True, help="Requests in flight."),
        click.option("--max-tokens", type=int, default=1024, show_default=True, help="Completion tokens per verdict."),
        click.option("--temperature", type=float, default=0.0, show_default=True),
        click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True,
                     help="Seconds per attempt."),
        click.option("--rpm", type=float, help="Client-side requests-per-minute limit."),
        click.option("--tpm", type=float, help="Client-side tokens-per-minute limit."),
        click.option("--max-cost", type=float, help="Stop before the run could spend more than this many dollars."),
        click.option("--pricing", type=click.Path(dir_okay=False), help="JSON {model: {input, output}} $/1M tokens."),
        stats_options,
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def finish(results: dict, cfg, as_json: bool) -> None:
    emit(results, as_json)
    if results.get("batch") and not as_json:
        for line in describe(results["batch"], results["usage"]):
            click.echo(line)
    if results.get("recorded_in") and not as_json:
        click.echo(f"recorded in the registry against {', '.join(results['recorded_in'])}")
    if results.get("stopped_by") == "max_cost":
        raise stopped_short(f"stopped by --max-cost {cfg.max_cost}: {results['items_scored']} of "
                            f"{results['items_paired']} items judged in both orders; raise --max-cost and run the "
                            "same command to continue")


def print_plan(p: dict, as_json: bool) -> None:
    if as_json:
        return click.echo(json.dumps(p, indent=2))
    price = "" if p["price_known"] else "  (no price for this model: counted as $0; see --pricing)"
    batch = f" at batch prices (synchronously ${p['sync_dollars']:.4f})" if p["batch"] else ""
    click.echo(f"judge {p['items']} items in both orders with {p['judge_model']}: {p['requests']} requests to send "
               f"({p['already_judged']} already judged)\n  prompt tokens {p['prompt_tokens']:,} ({p['token_counter']}), "
               f"reply tokens about {p['completion_tokens']:,}\n  expected cost ${p['dollars']:.4f}{batch}, "
               f"worst case ${p['worst_case_dollars']:.4f}{price}")


@click.command("judge")
@click.option("--a", "a_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Answers of model A.")
@click.option("--b", "b_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Answers of model B.")
@judge_options
@click.option("--dry-run", is_flag=True, help="Print requests, tokens and dollars; send nothing.")
@click.option("--replay", "from_journal", is_flag=True, help="Recompute results from the journal in OUTPUT; send nothing.")
@click.option("--a-model", type=click.Path(exists=True, file_okay=False),
              help="The fine-tuned model folder A's answers came from: record the result against its training data.")
@click.option("--b-model", type=click.Path(exists=True, file_okay=False), help="The same for B.")
@click.option("--set-name", help="Name of the evaluation set, for the registry record.")
@batch_options
@root_option
def judge_cmd(a_path, b_path, out_dir, api_key, dry_run, from_journal, as_json, a_model, b_model, set_name,
              batch, no_wait, poll_interval, batch_retry, **options):
    """Judge answers A against answers B, each item in both orders, and print A's win rate.

    \b
        selfinstruct eval judge --a mine.json --b text_davinci_003.model_outputs.json \\
            --judge-model gpt-4o-mini -o cmp/
        selfinstruct eval judge --a mine.json --b ref.json --judge-model qwen2.5-72b \\
            --base-url http://localhost:8000/v1 -o cmp/ --a-model runs/alpaca-7b --json

    Every request and reply is journaled in OUTPUT/judge.run; the same command resumes without
    re-sending a judged comparison, and --replay recomputes the results at no cost. With --batch
    the comparisons go through the endpoint's Batch API at its price; the same command re-attaches
    to batches in flight.
    """
    from pathlib import Path

    from evaluation.judge import JudgeConfig
    from evaluation.lineage import record_evaluation
    from evaluation.pairwise import dry_run as plan, judge_answer_files

    cfg = JudgeConfig(**options)
    batching = batch_from(batch, no_wait, poll_interval, batch_retry)
    if dry_run:
        return print_plan(plan(a_path, b_path, cfg, out_dir, batch=batching is not None), as_json)
    with batch_bar(batching is not None and not as_json) as show:
        results = judge_answer_files(a_path, b_path, cfg, out_dir, api_key=api_key, from_journal=from_journal,
                                     batch=batching, batch_progress=show)
    if "pending" in results:
        if as_json:
            click.echo(json.dumps(results, indent=2))
        raise stopped_short(results["pending"])
    if a_model or b_model:
        results["recorded_in"] = record_evaluation(results, model_dirs={"a": a_model, "b": b_model},
                                                   results_path=Path(out_dir) / "results.json", set_name=set_name,
                                                   root=current_root())
    finish(results, cfg, as_json)


@click.command("compare")
@click.argument("ref_a")
@click.argument("ref_b")
@judge_options
@click.option("--model-a", type=click.Path(file_okay=False),
              help="The model folder trained on REF_A to use (default: the newest with answers to a common set).")
@click.option("--model-b", type=click.Path(file_okay=False), help="The same for REF_B.")
@root_option
def compare_cmd(ref_a, ref_b, out_dir, api_key, as_json, model_a, model_b, **options):
    """Judge a model trained on REF_A against one trained on REF_B, on a set both have answered.

    \b
        selfinstruct eval compare alpaca@1 alpaca@2 --judge-model gpt-4o-mini -o cmp-1-2/

    The models come from the fine-tune runs recorded on each version (the newest with answers to a
    set both sides answered, or the folders given by --model-a / --model-b), their answers from
    `eval answer` or `eval record-answers`; when something is missing the command says what and
    exits 2.
    """
    from evaluation.compare import compare_versions
    from evaluation.judge import JudgeConfig

    cfg = JudgeConfig(**options)
    results = compare_versions(ref_a, ref_b, cfg, out_dir, root=current_root(), api_key=api_key,
                               model_a=model_a, model_b=model_b)
    finish(results, cfg, as_json)


@click.command("record-answers")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("answers", type=click.Path(exists=True, dir_okay=False))
@click.option("--set-name", help="Name of the evaluation set the answers respond to.")
@root_option
def record_answers_cmd(model_dir, answers, set_name):
    """Record ANSWERS (model_outputs.json) of the fine-tuned model in MODEL_DIR against its training data.

    \b
        selfinstruct eval record-answers runs/alpaca-7b answers.json --set-name selfinstruct-252
    """
    from evaluation.lineage import record_answers

    use = record_answers(model_dir, answers, set_name=set_name, root=current_root())
    click.echo(f"recorded {use['items']} answers of {use['model_output']} against {use['version']}")
