"""--dry-run: how many requests, tokens and dollars a run should take, before any call is made."""

from __future__ import annotations

import math
from pathlib import Path

from selfinstruct.config import GenerateConfig
from modelcalls.journal import JOURNAL, read_journal
from selfinstruct.payloads import make_request
from selfinstruct.prompts import render_example
from selfinstruct.resieve import load_run_inputs, resieve

SAMPLE_REQUESTS = 20


def staged_sample(cfg: GenerateConfig, seeds) -> list[dict]:
    """Prompts of every self-instruct stage, in the proportions of a run (a list, then per task a
    classification and an instance), to size its prompt tokens."""
    from selfinstruct.staged import classify_request, instance_request, instructions_request, load_stage_templates

    templates = load_stage_templates()
    sample = []
    for i, task in enumerate(seeds[:SAMPLE_REQUESTS]):
        entry = {"id": f"{i}.0", "instruction": task.instruction}
        sample += [instructions_request(i, cfg, seeds, templates["instructions"], []),
                   classify_request(i, entry, templates["classify"]),
                   instance_request(i, entry, task.is_classification, templates)]
    return sample


def plan_run(cfg: GenerateConfig, run_dir: str | Path | None = None) -> dict:
    """Expected requests, tokens and dollars for `cfg.num_instructions` records.

    Prompt tokens are counted on sampled prompts. A reply is assumed to hold `num_tasks_per_prompt`
    tasks of the seeds' average size (capped at max_tokens). The yield (kept records per prompt) is
    the run directory's own when it has one, else `cfg.expected_yield`. `worst_case_dollars` prices
    every reply at max_tokens: it is what --max-cost reserves.
    """
    inputs = load_run_inputs(cfg)
    seeds, counter, price = inputs.seeds, inputs.counter, inputs.price
    if cfg.method == "self-instruct":
        sample = staged_sample(cfg, seeds.tasks)
    else:
        sample = [make_request(i, cfg, seeds.tasks, inputs.template) for i in range(SAMPLE_REQUESTS)]
    prompts = [p for r in sample for p in r["prompts"]]
    prompt_tokens = sum(counter.count(p) for p in prompts) / len(prompts)
    per_task = sum(counter.count(render_example(0, t.example)) for t in seeds.tasks) / len(seeds.tasks)
    reply_tokens = min(cfg.max_tokens, per_task * cfg.num_tasks_per_prompt)
    if cfg.method == "self-instruct":  # a list's items, a Yes/No, one instance: about a task's size on average
        reply_tokens = min(cfg.max_tokens, per_task)

    already, yield_source, per_prompt = 0, "assumed (--expected-yield)", cfg.expected_yield
    journal = Path(run_dir) / JOURNAL if run_dir else None
    if journal is not None and journal.exists():
        sieve = resieve(cfg, read_journal(journal), inputs).sieve
        already = len(sieve.kept)
        if sieve.stats.prompts:
            per_prompt, yield_source = already / sieve.stats.prompts, f"measured in {journal}"
    remaining = max(0, cfg.num_instructions - already)
    n_prompts = math.ceil(remaining / per_prompt) if remaining and per_prompt > 0 else 0
    if cfg.method == "self-instruct" and yield_source.startswith("assumed"):
        # a list request per (expected-yield) records, then a classification and an instance per record
        n_prompts = math.ceil(remaining / per_prompt) + 2 * remaining if remaining and per_prompt > 0 else 0
        per_prompt = remaining / n_prompts if n_prompts else per_prompt
    n_requests = math.ceil(n_prompts / cfg.prompts_per_request)
    total_prompt, total_reply = n_prompts * prompt_tokens, n_prompts * reply_tokens
    return {
        "model": cfg.model, "num_instructions": cfg.num_instructions, "already_kept": already,
        "kept_per_prompt": round(per_prompt, 3), "yield_source": yield_source,
        "prompts": n_prompts, "requests": n_requests, "prompts_per_request": cfg.prompts_per_request,
        "prompt_tokens": round(total_prompt), "completion_tokens": round(total_reply),
        "prompt_tokens_per_prompt": round(prompt_tokens, 1), "completion_tokens_per_prompt": round(reply_tokens, 1),
        "dollars": round(price.cost(total_prompt, total_reply), 4),
        "worst_case_dollars": round(price.cost(total_prompt, n_prompts * cfg.max_tokens), 4),
        "price_known": price.known, "price_per_m": {"input": price.input_per_m, "output": price.output_per_m},
        "token_counter": counter.method,
    }
