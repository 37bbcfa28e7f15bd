"""`selfinstruct eval judge`: pairwise judging of two answer files (click layer only)."""

from __future__ import annotations

import json
import sys

import click

from evaluation.cli import emit, eval_group, input_errors, stats_options


@eval_group.command("judge")
@click.option("--a", "a_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Answers of model A.")
@click.option("--b", "b_path", required=True, type=click.Path(exists=True, dir_okay=False), help="Answers of model B.")
@click.option("--judge-model", required=True, help="The judge's model name at the endpoint.")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for annotations.json, results.json and the journal (judge.run/).")
@click.option("--base-url", help="OpenAI-compatible endpoint root [env OPENAI_BASE_URL].")
@click.option("--api-key", help="API key [env OPENAI_API_KEY]. Never written to any file.")
@click.option("--judge-prompt", type=click.Path(exists=True, dir_okay=False),
              help="Prompt file with {instruction} {input} {output_a} {output_b} (default: the shipped one).")
@click.option("--concurrency", type=int, default=8, show_default=True, help="Requests in flight.")
@click.option("--max-tokens", type=int, default=1024, show_default=True, help="Completion tokens per verdict.")
@click.option("--temperature", type=float, default=0.0, show_default=True)
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True, help="Seconds per attempt.")
@click.option("--rpm", type=float, help="Client-side requests-per-minute limit.")
@click.option("--tpm", type=float, help="Client-side tokens-per-minute limit.")
@click.option("--max-cost", type=float, help="Stop before the run could spend more than this many dollars.")
@click.option("--pricing", type=click.Path(dir_okay=False), help="JSON {model: {input, output}} $/1M tokens.")
@click.option("--dry-run", is_flag=True, help="Print requests, tokens and dollars; send nothing.")
@click.option("--replay", "from_journal", is_flag=True, help="Recompute results from the journal in OUTPUT; send nothing.")
@stats_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@input_errors
def judge_cmd(a_path, b_path, out_dir, api_key, dry_run, from_journal, as_json, **options):
    """Judge answers A against answers B, each item in both orders, and print A's win rate.

    \b
        selfinstruct eval judge --a mine.json --b text_davinci_003.model_outputs.json \\
            --judge-model gpt-4o-mini -o cmp/
        selfinstruct eval judge --a mine.json --b ref.json --judge-model qwen2.5-72b \\
            --base-url http://localhost:8000/v1 -o cmp/ --json

    Every request and reply is journaled in OUTPUT/judge.run; the same command resumes without
    re-sending a judged comparison, and --replay recomputes the results at no cost.
    """
    from evaluation.judge import JudgeConfig
    from evaluation.pairwise import dry_run as plan, judge_answer_files
    from selfinstruct.errors import BackendError, ConfigError
    from selfinstruct.journal import RunLocked

    cfg = JudgeConfig(**options)
    if dry_run:
        p = plan(a_path, b_path, cfg, out_dir)
        if as_json:
            return click.echo(json.dumps(p, indent=2))
        price = "" if p["price_known"] else "  (no price for this model: counted as $0; see --pricing)"
        return click.echo(f"judge {p['items']} items in both orders with {p['judge_model']}: {p['requests']} requests "
                          f"to send ({p['already_judged']} already judged)\n  prompt tokens {p['prompt_tokens']:,} "
                          f"({p['token_counter']}), reply tokens about {p['completion_tokens']:,}\n  expected cost "
                          f"${p['dollars']:.4f}, worst case ${p['worst_case_dollars']:.4f}{price}")
    try:
        results = judge_answer_files(a_path, b_path, cfg, out_dir, api_key=api_key, from_journal=from_journal)
    except (RunLocked, ConfigError) as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    except BackendError as e:
        raise click.ClickException(f"{e} (every reply received is journaled in {out_dir}/judge.run; "
                                   "run the same command to resume)") from None
    except KeyboardInterrupt:
        click.echo(f"interrupted: every reply received is in {out_dir}/judge.run; run the same command to resume",
                   err=True)
        sys.exit(130)
    emit(results, as_json)
    if results.get("stopped_by") == "max_cost":
        click.echo(f"stopped by --max-cost {cfg.max_cost}: {results['items_scored']} of {results['items_paired']} "
                   "items judged in both orders; raise --max-cost and run the same command to continue", err=True)
        sys.exit(3)
