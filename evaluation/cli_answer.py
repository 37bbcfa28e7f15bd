"""`eval answer` and `chat`: thin click commands over evaluation.answer and evaluation.chat."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from modelcalls.batch_cli import batch_bar, batch_from, batch_options, describe
from modelcalls.loop import run_resumable
from records.errors import InputError
from records.exits import bad_input, stopped_short
from registry.cli_common import current_root, root_option


@click.command("answer")
@click.option("--model", required=True, help="A local checkpoint folder (answered in-process), or a model name at --base-url.")
@click.option("--set", "set_path", required=True, type=click.Path(dir_okay=False),
              help="Evaluation set: AlpacaEval (instruction, dataset) or Self-Instruct user-oriented (instances) "
                   "JSON/JSONL, or a registry version (name@N).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="model_outputs.json to write.")
@click.option("--base-url", help="OpenAI-compatible endpoint [env OPENAI_BASE_URL when --model is not a folder].")
@click.option("--api-key", help="API key [env OPENAI_API_KEY]. Never written to any file.")
@click.option("--api", type=click.Choice(["chat", "completions"]), default="chat", show_default=True)
@click.option("--template", help="Prompt format: a finetune template name or YAML file, `chat` or `plain` "
                                 "(default: the model's recorded training template, else its chat template).")
@click.option("--generator", help="Name written in each output (default: the folder or model name).")
@click.option("--temperature", type=float, default=0.0, show_default=True, help="0 answers greedily.")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", "--max-new-tokens", "max_tokens", type=int, default=1024, show_default=True,
              help="Completion tokens per answer (--max-new-tokens is the old name).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True, help="In-process: prompts per forward batch.")
@click.option("--concurrency", type=int, help="Requests in flight (default: 8 for an endpoint, 2 x --batch-size in-process).")
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True, help="Seconds per request attempt.")
@click.option("--rpm", type=float, help="Client-side requests-per-minute limit.")
@click.option("--tpm", type=float, help="Client-side tokens-per-minute limit.")
@click.option("--max-cost", type=float, help="Stop before the answers could cost more than this many dollars.")
@click.option("--pricing", type=click.Path(dir_okay=False), help="JSON {model: {input, output}} $/1M tokens.")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Journal directory (default: OUTPUT without suffix + .run).")
@batch_options
@root_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def answer_command(set_path, output, api_key, run_dir, as_json, quiet, batch, no_wait, poll_interval, batch_retry,
                   **options):
    """Answer every instruction of an evaluation set; write AlpacaEval's model_outputs.json.

    \b
        selfinstruct eval answer --model runs/alpaca-7b --set user_oriented_instructions.jsonl -o answers.json
        selfinstruct eval answer --model gpt-4o-mini --base-url https://api.openai.com/v1 --set eval.json -o gpt.json

    Every request and response is journaled in --run-dir; the same command again resumes without
    asking again for any answer already received. With --batch the requests go through the
    endpoint's Batch API at its price; the same command re-attaches to batches in flight. The
    answers of a model fine-tuned here on a registry version are recorded against that version,
    where `eval compare` finds them.
    """
    from evaluation.answer import AnswerConfig, answer, load_instructions, open_backend, write_outputs

    local = Path(options["model"]).is_dir()
    if not local and not options["base_url"]:
        options["base_url"] = os.environ.get("OPENAI_BASE_URL")
        if not options["base_url"] and not (api_key or os.environ.get("OPENAI_API_KEY")):
            raise bad_input(f"{options['model']} is not a local checkpoint folder and no endpoint is configured: "
                            "pass --base-url (or set OPENAI_BASE_URL / OPENAI_API_KEY)")
        options["base_url"] = options["base_url"] or "https://api.openai.com/v1"
    cfg = AnswerConfig(**options)
    batching = batch_from(batch, no_wait, poll_interval, batch_retry)
    if batching is not None and not cfg.base_url:
        raise bad_input(f"--batch needs an endpoint with a Batch API (--base-url); {options['model']} is a local "
                        "checkpoint, answered in-process")
    run_dir = run_dir or str(Path(output).with_suffix("")) + ".run"
    items = load_instructions(set_path, root=current_root())
    backend, fmt = open_backend(cfg, api_key=api_key)
    if not (quiet or as_json):
        click.echo(f"answering {len(items)} instructions with {cfg.generator_name}; prompt format "
                   f"{fmt.name} ({fmt.source})", err=True)
    result = _run(answer, cfg, backend, fmt, items, run_dir, set_path, quiet or as_json, batching)
    if result.batch is not None and (pending := result.batch.pending(run_dir)):
        if as_json:
            click.echo(json.dumps(result.summary, indent=2))
        raise stopped_short(pending)
    write_outputs(output, result.outputs)
    summary = {"output": output, **result.summary}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        u = result.usage
        click.echo(f"wrote {len(result.outputs)} of {result.total} answers to {output}  (journal: {run_dir})")
        click.echo(f"requests {u.requests}; tokens {u.prompt_tokens:,} in + {u.completion_tokens:,} out; "
                   f"${u.dollars:.4f}; {result.truncated} answers cut at --max-new-tokens")
        for line in describe(result.summary["batch"], result.summary["usage"]) if result.batch is not None else []:
            click.echo(line)
    if local and len(result.outputs) == result.total:
        note = record_if_fine_tuned(options["model"], output, set_path, root=current_root())
        if note and not as_json:
            click.echo(note, err=True)
    if result.stopped_by == "max_cost":
        raise stopped_short(f"stopped by --max-cost {cfg.max_cost}: raise it and run the same command to continue")


def record_if_fine_tuned(model_dir: str, output: str, set_path: str, *, root=None) -> str | None:
    """Record a complete answers file of a model fine-tuned here against its training version, so
    `eval compare` finds it; a note saying what was done, or None for other checkpoints."""
    from evaluation.lineage import record_answers, training_run
    from registry.errors import RegistryError

    try:
        run = training_run(model_dir)
    except InputError:
        return None  # not fine-tuned on a registry version: nothing to record against
    set_name = Path(set_path).stem if Path(set_path).is_file() else set_path.split("@")[0]
    try:
        record_answers(model_dir, output, set_name=set_name, root=root)
    except RegistryError as e:
        return f"answers not recorded against {run['dataset']} ({e}); `eval record-answers` records them later"
    return f"recorded the answers against {run['dataset']} (set {set_name}), where `eval compare` finds them"


def _run(answer, cfg, backend, fmt, items, run_dir, set_path, quiet, batch):
    if batch is not None:
        with batch_bar(not quiet) as show:
            return run_resumable(answer(cfg, backend, fmt, items, run_dir=run_dir, set_path=set_path, batch=batch,
                                        batch_progress=show), run_dir)
    if quiet or not sys.stderr.isatty():
        return run_resumable(answer(cfg, backend, fmt, items, run_dir=run_dir, set_path=set_path), run_dir)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress("[bold]answered", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), "ETA",
                  TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task("answer", total=len(items))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return run_resumable(answer(cfg, backend, fmt, items, run_dir=run_dir, set_path=set_path,
                                    progress=progress), run_dir)


@click.command("chat")
@click.option("--model", "model", type=click.Path(file_okay=False), help="A local checkpoint folder, run in-process.")
@click.option("--base-url", help="An OpenAI-compatible endpoint instead of --model.")
@click.option("--model-name", help="The model's name at --base-url (default: the first the server lists).")
@click.option("--api-key", help="API key [env OPENAI_API_KEY]. Never written to any file.")
@click.option("--template", help="Prompt format: a finetune template name or YAML file, `chat` or `plain`.")
@click.option("--system", help="System text to start with (/system changes it).")
@click.option("--max-tokens", "--max-new-tokens", "max_new_tokens", type=int, default=512, show_default=True,
              help="Completion tokens per reply (--max-new-tokens is the old name).")
@click.option("--temperature", type=float, default=0.7, show_default=True, help="0 answers greedily.")
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--seed", type=int, help="Sampling seed (same seed, same replies).")
def chat_command(model, base_url, model_name, api_key, template, system, max_new_tokens, temperature, top_p, seed):
    """Chat with a model in the terminal, replies streamed in its training prompt format.

    \b
        selfinstruct chat --model runs/alpaca-tiny
        selfinstruct chat --base-url http://localhost:8000/v1 --model-name Qwen/Qwen2.5-7B-Instruct

    Enter sends; end a line with \\ to continue it, or wrap a block in lines of three double
    quotes. /system TEXT, /reset, /exit (or Ctrl-D); Ctrl-C stops a reply.
    """
    from evaluation.chat import open_chat, run_terminal

    if bool(model) == bool(base_url):
        raise bad_input("pass either --model PATH (a local checkpoint) or --base-url URL")
    session = open_chat(model=model, base_url=base_url, model_name=model_name, template=template, system=system,
                        max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed,
                        api_key=api_key)
    run_terminal(session)
