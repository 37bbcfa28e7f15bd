"""The generator's commands (`generate`, `dedup`, `backends`): a thin click layer over selfinstruct.

They sit above the packages because `generate --dataset NAME` composes two of them: the run's
records become a registry version, with the run's lineage, in the same command.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from modelcalls.batch_cli import batch_bar, batch_from, batch_options, describe
from records.exits import BAD_INPUT, bad_input, fail, stopped_short
from records.schema import RECORD_FIELDS

CREDENTIALS_HELP = """\
No endpoint is configured, so nothing was sent. Set one of:
  export OPENAI_API_KEY=sk-...                      # OpenAI (or pass --api-key)
  export OPENAI_BASE_URL=http://localhost:8000/v1   # a local vLLM / llama.cpp / Ollama / TGI server
                                                    #   (Ollama: http://localhost:11434/v1)
or use --backend transformers --model /path/to/checkpoint for a local model in-process,
or install the built-in model: {install}
This is the plan and price for the command you ran (--dry-run):"""


@click.command()
@click.option("--seeds", type=click.Path(dir_okay=False), help="Seed tasks (default: the shipped seeds/default.jsonl).")
@click.option("--seeds-licence", help="Licence of --seeds (SPDX id), recorded in lineage and datasheets.")
@click.option("-n", "--num-instructions", type=int, default=100, show_default=True,
              help="Records to produce (replay: at most this many; without -n, every record the journal yields).")
@click.option("--model", default="gpt-4o-mini", show_default=True, help="Model name, or a checkpoint path for --backend transformers.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output file: .jsonl, or .json for Alpaca's JSON list.")
@click.option("--backend", type=click.Choice(["openai", "transformers", "replay"]), default="openai", show_default=True)
@click.option("--method", type=click.Choice(["alpaca", "self-instruct"]), default="alpaca", show_default=True,
              help="alpaca: one prompt writes whole tasks. self-instruct: staged requests (new instructions, "
                   "classification, one instance each), for small models; the default with the built-in model.")
@click.option("--response-model", help="A second model that answers the instructions (the instance stage).")
@click.option("--response-base-url", help="Endpoint of --response-model (default: the main endpoint).")
@click.option("--base-url", help="OpenAI-compatible endpoint root [env OPENAI_BASE_URL].")
@click.option("--api-key", help="API key [env OPENAI_API_KEY]. Never written to any file.")
@click.option("--api", type=click.Choice(["chat", "completions"]), default="chat", show_default=True)
@click.option("--prompt-file", type=click.Path(dir_okay=False), help="Replace the shipped prompt text.")
@click.option("--num-prompt-instructions", type=int, default=3, show_default=True, help="Seed examples per prompt.")
@click.option("--machine-examples", type=int, default=0, show_default=True, help="Examples from this run's kept records per prompt.")
@click.option("--num-tasks", "num_tasks_per_prompt", type=int, default=20, show_default=True, help="New tasks asked for per prompt.")
@click.option("--concurrency", type=int, default=8, show_default=True, help="Requests in flight.")
@click.option("--request-batch-size", type=int, default=5, show_default=True, help="Prompts per request (--api completions).")
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True, help="Seconds per request attempt.")
@click.option("--rpm", type=float, help="Client-side requests-per-minute limit.")
@click.option("--tpm", type=float, help="Client-side tokens-per-minute limit.")
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--top-p", type=float, default=1.0, show_default=True)
@click.option("--max-tokens", type=int, default=3072, show_default=True, help="Completion tokens per prompt.")
@click.option("--filters", type=click.Choice(["alpaca", "strict"]), default="strict", show_default=True)
@click.option("--language", default="en", show_default=True, help="Data language (the strict ASCII check is English-only).")
@click.option("--rouge-threshold", type=float, default=0.7, show_default=True)
@click.option("--rouge-tokenizer", type=click.Choice(["rouge", "unicode"]), default="rouge", show_default=True)
@click.option("--minhash-threshold", type=float, help="Drop records at MinHash Jaccard >= J with a kept one.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), help="Journal directory (default: OUTPUT without suffix + .run).")
@click.option("--max-cost", type=float, help="Stop before the run could spend more than this many dollars.")
@click.option("--pricing", type=click.Path(dir_okay=False), help="JSON {model: {input, output}} $/1M tokens.")
@click.option("--stall-responses", type=int, default=100, show_default=True,
              help="Stop after this many responses in a row keep nothing new (0: never).")
@click.option("--expected-yield", type=float, default=8.0, show_default=True, help="Kept records per prompt that --dry-run assumes.")
@click.option("--dry-run", is_flag=True, help="Print requests, tokens and dollars; send nothing.")
@click.option("--dataset", help="Commit the result to the registry as a new version of this dataset.")
@click.option("--registry", "registry_root", help="Registry root [env SELFINSTRUCT_REGISTRY].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--salvage", is_flag=True,
              help="Move unreadable journal lines to journal.jsonl.bad and resume from every good one.")
@batch_options
def generate(output, run_dir, api_key, dry_run, dataset, registry_root, as_json, quiet, salvage, batch, no_wait,
             poll_interval, batch_retry, **options):
    """Grow instruction/input/output records from seed tasks.

    \b
        export OPENAI_API_KEY=sk-...
        selfinstruct generate -n 200 --model gpt-4o-mini -o regen.jsonl
        selfinstruct generate -n 200 --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct -o regen.jsonl
        selfinstruct generate -n 200 --dataset regen --registry ./reg   # commit only (journal: regen.run)
        selfinstruct generate --backend replay --run-dir regen.run --filters alpaca -o resieved.jsonl
        selfinstruct generate -n 1000 --batch -o regen.jsonl      # in waves of batches, at batch prices

    Every request and response is journaled in --run-dir; running the same command again resumes
    without requesting anything already received. Outputs, --dataset and the seed and prompt files
    are checked before anything is sent. With --batch the requests go through the endpoint's Batch
    API in waves, each sized from the yield measured so far; the same command re-attaches to
    batches in flight.

    \b
    Exit status:
      0    done
      1    the endpoint refused (bad key, unknown model, quota) or the run failed
      2    bad input or configuration (bad option, unwritable output, corrupt journal, run dir in
           use, nothing listening at --base-url): nothing was sent
      3    stopped short by --max-cost, a model repeating itself or batches left in flight
           (--no-wait); run the same command to continue
      130  interrupted (Ctrl-C); every response received is journaled
      143  terminated (SIGTERM); the same as 130
    """
    from selfinstruct.config import GenerateConfig, apply_method_defaults

    try:
        cfg = GenerateConfig(**options)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if output is None and dataset is None and not dry_run:
        raise click.UsageError("give --output (a .jsonl or .json path) or --dataset NAME, or use --dry-run")
    run_dir = run_dir or _default_run_dir(output, dataset)
    given = _given_options()
    batching = batch_from(batch, no_wait, poll_interval, batch_retry)
    if cfg.backend == "replay":
        _check_before_sending(cfg, output, None, dataset, registry_root)
        return _replay(cfg, given, run_dir, output, dataset, registry_root, as_json)
    apply_method_defaults(cfg, given)
    no_endpoint = cfg.backend == "openai" and not (api_key or os.environ.get("OPENAI_API_KEY")
                                                   or cfg.base_url or os.environ.get("OPENAI_BASE_URL"))
    if batching is not None and not dry_run and (cfg.backend == "transformers" or no_endpoint):
        raise bad_input("--batch needs an OpenAI-compatible endpoint with a Batch API (--base-url or "
                        "OPENAI_API_KEY); a model run in-process answers each request at once")
    if no_endpoint and not dry_run and not {"model", "backend"} & given:
        _check_before_sending(cfg, output, run_dir, dataset, registry_root)  # before loading a model
        no_endpoint = not _use_local_model(cfg, given)
    if dry_run or no_endpoint:
        if no_endpoint and not dry_run:
            from selfinstruct.local_model import INSTALL_HINT

            click.echo(CREDENTIALS_HELP.format(install=INSTALL_HINT), err=True)
        _print_plan(cfg, run_dir, as_json, batching is not None)
        if no_endpoint and not dry_run:
            raise click.exceptions.Exit(BAD_INPUT)
        return
    _check_before_sending(cfg, output, run_dir, dataset, registry_root)
    from modelcalls.endpoint import build_backend
    from modelcalls.tokens import get_counter
    from selfinstruct.generate import generate as run_generation

    count = get_counter(cfg.model).count
    backend = build_backend(cfg, api_key=api_key, count_tokens=count)
    responder = cfg.response_endpoint() and build_backend(cfg.response_endpoint(), api_key=api_key, count_tokens=count)
    result = _run_with_progress(run_generation, cfg, backend, run_dir, quiet or as_json, salvage, responder, batching)
    if result.batch is not None and (pending := result.batch.pending(run_dir)):
        if as_json:
            click.echo(json.dumps({"run_dir": str(result.run_dir), "kept_total": len(result.kept),
                                   "usage": result.usage.to_dict(), "batch": result.batch.to_dict()}, indent=2))
        raise stopped_short(f"kept {len(result.kept)} of {cfg.num_instructions} so far; {pending}")
    _finish(result, cfg, output, dataset, registry_root, as_json)


def _default_run_dir(output: str | None, dataset: str | None) -> str | None:
    """OUTPUT without its suffix + .run, else NAME.run for a run that only commits --dataset NAME."""
    if output:
        return str(Path(output).with_suffix("")) + ".run"
    return f"{dataset}.run" if dataset else None


def _check_before_sending(cfg, output, run_dir, dataset, registry_root) -> None:
    """Everything that would fail after a paid run, checked before the first request: exit 2."""
    from records.files import RECORD_SUFFIXES, check_writable
    from selfinstruct.prompts import load_template

    if dataset is not None:
        from registry import check_committable

        check_committable(dataset, registry_root)  # a RegistryError (or its UnsafeNameError): exit 2
    if output is not None:
        check_writable(output, suffixes=RECORD_SUFFIXES)  # an InputError: exit 2
    if run_dir is not None:
        check_writable(run_dir, folder=True)
    if cfg.prompt_file is not None:
        load_template(cfg.prompt_file)
    if cfg.seeds is not None:  # before any model is loaded or its banner printed
        from selfinstruct.seeds import load_seeds

        load_seeds(cfg.seeds)


def _given_options() -> set[str]:
    """The options typed on the command line (the rest are click's defaults)."""
    ctx = click.get_current_context()
    return {name for name in ctx.params if ctx.get_parameter_source(name) != ParameterSource.DEFAULT}


def _use_local_model(cfg, given: set[str]) -> bool:
    """With no endpoint and no --model/--backend: the built-in SmolLM2 in-process, when installed."""
    from selfinstruct import local_model

    if not local_model.available():
        return False
    if local_model.local_model_path() is None:
        click.echo("preparing the built-in model once (SmolLM2-135M-Instruct, GGUF -> safetensors, about a minute)",
                   err=True)
    local_model.use_builtin_model(cfg, given)
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        # A 135M model's matrices are small: on 2 busy cores one thread wrote 40 tokens in 4-6 s,
        # two threads in 17-23 s. OMP_NUM_THREADS overrides this.
        torch.set_num_threads(1)
    click.echo(f"no endpoint configured: generating with the built-in SmolLM2-135M-Instruct on this machine "
               f"(--method {cfg.method}); a 135M model writes weak data, set OPENAI_API_KEY or OPENAI_BASE_URL "
               "for a real one", err=True)
    return True


def _run_with_progress(run_generation, cfg, backend, run_dir, quiet, salvage=False, responder=None, batching=None):
    from modelcalls.loop import run_resumable

    if batching is not None:  # a bar per batch while a wave waits
        with batch_bar(not quiet) as show:
            return run_resumable(run_generation(cfg, backend, run_dir=run_dir, salvage=salvage, response_backend=responder,
                                                batch=batching, batch_progress=show), run_dir)
    if quiet or not sys.stderr.isatty():
        return run_resumable(run_generation(cfg, backend, run_dir=run_dir, salvage=salvage,
                                            response_backend=responder), run_dir)
    from rich.console import Console

    from selfinstruct.progress import LiveProgress

    with LiveProgress(cfg.num_instructions, console=Console(stderr=True)) as bar:
        return run_resumable(run_generation(cfg, backend, run_dir=run_dir, progress=bar, salvage=salvage,
                                            response_backend=responder), run_dir)


def _replay(cfg, given, run_dir, output, dataset, registry_root, as_json):
    from modelcalls.journal import read_recorded_run
    from selfinstruct.generate import replay, replay_config

    if not run_dir:
        raise click.UsageError("--backend replay needs --run-dir (the directory of the run to re-sieve)")
    if output is None:
        raise click.UsageError("--backend replay needs --output (the audit files go beside it)")
    recorded = read_recorded_run(run_dir)
    replay_config(cfg, recorded, given)  # the recorded run's settings, unless given here
    audit_dir = str(Path(output).with_suffix("")) + ".replay"
    result = replay(cfg, recorded, run_dir, audit_dir=audit_dir, everything="num_instructions" not in given)
    _finish(result, cfg, output, dataset, registry_root, as_json)


def _finish(result, cfg, output, dataset, registry_root, as_json):
    from records.files import write_records

    n = write_records(output, result.records) if output else len(result.records)
    summary = {"output": output, "records": n, "run_dir": str(result.run_dir), "stopped_by": result.stopped_by,
               "requests": result.stats.requests, "candidates": result.stats.candidates,
               "kept_total": len(result.kept), "surplus": len(result.kept) - n,
               "awaiting_instance": result.stats.awaiting_instance,
               "drops": dict(sorted(result.stats.drops.items())), "usage": result.usage.to_dict(),
               **({"batch": result.batch.to_dict()} if result.batch is not None else {})}
    if dataset:
        summary["dataset"] = _commit(result, dataset, registry_root, output)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    if result.stopped_by == "max_cost":
        raise stopped_short(f"stopped by --max-cost {cfg.max_cost}: kept {n} of {cfg.num_instructions}; raise "
                            "--max-cost and run the same command to continue")
    if result.stopped_by == "stalled":
        raise stopped_short(f"stopped: the last {cfg.stall_responses} responses kept nothing new, so the model is "
                            f"repeating itself (kept {n} of {cfg.num_instructions}). Try a higher --temperature, "
                            "--machine-examples, more varied --seeds or another model; running the same command "
                            "continues the run.")
    if cfg.backend == "replay" and n < cfg.num_instructions:
        click.echo(f"the journal yields {n} records under these settings (asked for {cfg.num_instructions})", err=True)


def _commit(result, dataset, registry_root, output) -> str:
    import polars as pl

    import registry

    frame = pl.DataFrame(result.records, schema={"instruction": pl.String, "input": pl.String, "output": pl.String})
    try:
        version = registry.commit(frame, name=dataset, lineage=result.lineage, root=registry_root)
    except Exception as e:
        where = f"written to {output}" if output else f"kept in {result.run_dir}/kept.jsonl"
        raise fail(f"generated {len(result.records)} records ({where}), but the registry commit failed: {e}; "
                    "`selfinstruct registry import` can commit them") from None
    return version.ref


def _print_summary(s: dict) -> None:
    u = s["usage"]
    ratio = s["kept_total"] / s["candidates"] if s["candidates"] else 0.0
    awaiting = f", {s['awaiting_instance']} awaiting an instance" if s["awaiting_instance"] else ""
    journal = Path(s["run_dir"]).resolve()  # where to find it again, whichever folder this ran in
    if s["output"]:
        click.echo(f"wrote {s['records']} records to {s['output']}  (journal: {journal})")
    else:
        click.echo(f"{s['records']} records; the run's journal and files are in {journal} (the same command "
                   "resumes or grows the run from there)")
    surplus = (f"; {s['surplus']} more passed the filters (surplus, in {s['run_dir']}/kept.jsonl)"
               if s["surplus"] else "")
    click.echo(f"requests {s['requests']}, candidates {s['candidates']}: {s['kept_total']} passed ({ratio:.0%}), "
               f"{sum(s['drops'].values())} dropped{awaiting}{surplus}; "
               f"tokens {u['prompt_tokens']:,} in + {u['completion_tokens']:,} out; "
               f"${u['dollars']:.4f}" + (f" ({u['estimated_requests']} requests without usage counted locally)"
                                          if u["estimated_requests"] else ""))
    if s["drops"]:
        click.echo("dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(s["drops"].items(), key=lambda kv: -kv[1])))
    for line in describe(s["batch"], u) if "batch" in s else []:
        click.echo(line)
    if s.get("dataset"):
        click.echo(f"committed {s['dataset']}")


def _print_plan(cfg, run_dir, as_json, batch: bool = False) -> None:
    from selfinstruct.plan import plan_run

    plan = plan_run(cfg, run_dir)
    if batch:  # the same tokens at the Batch API's prices
        from modelcalls.pricing import load_pricing, price_for

        price = price_for(cfg.model, load_pricing(cfg.pricing)).batch
        plan["batch_dollars"] = round(price.cost(plan["prompt_tokens"], plan["completion_tokens"]), 4)
        plan["batch_worst_case_dollars"] = round(price.cost(plan["prompt_tokens"], plan["prompts"] * cfg.max_tokens), 4)
    if as_json:
        click.echo(json.dumps(plan, indent=2))
        return
    price = "" if plan["price_known"] else "  (no price for this model: local or unknown, counted as $0; see --pricing)"
    click.echo(
        f"plan for {plan['num_instructions']} records with {plan['model']}"
        + (f" ({plan['already_kept']} already kept in {run_dir})" if plan["already_kept"] else "") + "\n"
        f"  kept per prompt  {plan['kept_per_prompt']}  [{plan['yield_source']}]\n"
        f"  requests         {plan['requests']}  ({plan['prompts']} prompts, {plan['prompts_per_request']} per request)\n"
        f"  prompt tokens    {plan['prompt_tokens']:,}  ({plan['prompt_tokens_per_prompt']} per prompt, {plan['token_counter']})\n"
        f"  completion tokens {plan['completion_tokens']:,}  (about {plan['completion_tokens_per_prompt']} per prompt)\n"
        f"  expected cost    ${plan['dollars']:.4f}   worst case (every reply at --max-tokens) ${plan['worst_case_dollars']:.4f}{price}"
        + (f"\n  with --batch     ${plan['batch_dollars']:.4f}   worst case ${plan['batch_worst_case_dollars']:.4f}"
           if batch else ""))


@click.command()
@click.argument("input_path", metavar="IN", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Kept records, in input order.")
@click.option("--seeds", type=click.Path(dir_okay=False), help="Seed tasks whose instructions join the pool first.")
@click.option("--rouge-threshold", type=float, default=0.7, show_default=True)
@click.option("--rouge-tokenizer", type=click.Choice(["rouge", "unicode"]), default="rouge", show_default=True)
@click.option("--minhash-threshold", type=float, help="Also drop records at MinHash Jaccard >= J with a kept one.")
@click.option("--dropped", type=click.Path(dir_okay=False), help="Write dropped records with reason and collision here.")
@click.option("--json", "as_json", is_flag=True)
def dedup(input_path, output, seeds, rouge_threshold, rouge_tokenizer, minhash_threshold, dropped, as_json):
    """Apply the ROUGE-L (and optional MinHash) rules to an existing dataset, in file order.

    \b
        selfinstruct dedup alpaca_data.json -o alpaca_dedup.jsonl --seeds seed_tasks.jsonl
        selfinstruct dedup regen.jsonl -o regen.dedup.jsonl --minhash-threshold 0.8 --dropped gone.jsonl
    """
    from records.files import RECORD_SUFFIXES, check_writable, read_records, write_records
    from records.seeds import read_seed_instructions
    from selfinstruct.decide import sieve_records
    from selfinstruct.sieve_options import SieveOptions

    # a bad value (ValueError) or file (InputError) is one line, exit 2, by the one exit table
    options = SieveOptions(filters=None, rouge_threshold=rouge_threshold, rouge_tokenizer=rouge_tokenizer,
                           minhash_threshold=minhash_threshold)
    for path in (output, dropped):
        if path is not None:
            check_writable(path, suffixes=RECORD_SUFFIXES)
    records = read_records(input_path)
    seed_texts = read_seed_instructions(seeds) if seeds else []
    sieved = sieve_records(records, options, seeds=seed_texts)
    kept = [records[i] for i in sieved.kept]
    write_records(output, kept, RECORD_FIELDS)
    if dropped:
        write_records(dropped, sieved.dropped, (*RECORD_FIELDS, "drop_reason", "collided_with", "rouge_l",
                                                "record_index"))
    drops = dict(sieved.drops)
    if as_json:
        click.echo(json.dumps({"input": len(records), "kept": len(kept), "drops": drops, "output": output,
                               "dropped_file": dropped}))
        return
    click.echo(f"kept {len(kept)} of {len(records)} records -> {output}")
    if drops:
        click.echo("dropped: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(drops.items()))
                   + (f" (listed in {dropped})" if dropped else ""))


@click.command()
def backends():
    """List the generation backends. Example: selfinstruct backends"""
    from modelcalls.backends import BACKENDS

    for name, what in BACKENDS.items():
        click.echo(f"{name:13} {what}")
