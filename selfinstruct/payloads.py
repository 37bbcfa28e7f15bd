"""Build request payloads: sampled in-context examples rendered into prompts, deterministic per id."""

from __future__ import annotations

import random

from selfinstruct.config import GenerateConfig
from selfinstruct.prompts import PromptTemplate, render_prompt, stop_sequence
from selfinstruct.seeds import SeedTask, sample_examples


def make_request(request_id: int, cfg: GenerateConfig, seeds: list[SeedTask], template: PromptTemplate,
                 machine_pool: list[dict] = ()) -> dict:
    """The journaled form of one request: its prompts and how many examples each shows.

    Seed sampling depends only on (seed, request id), so a resumed run asks for the same prompts.
    """
    rng = random.Random(f"{cfg.seed}:{request_id}")
    prompts, num_examples = [], []
    for _ in range(cfg.prompts_per_request):
        examples = sample_examples(rng, seeds, cfg.num_prompt_instructions, machine_pool, cfg.machine_examples)
        prompts.append(render_prompt(template, examples, cfg.num_tasks_per_prompt))
        num_examples.append(len(examples))
    return {"id": request_id, "prompts": prompts, "num_examples": num_examples}


def stops_for(request: dict, num_tasks: int) -> tuple[str, ...]:
    """Stop sequences for a request (APIs take one list per request; OpenAI allows up to 4)."""
    return tuple(sorted({stop_sequence(k, num_tasks) for k in request["num_examples"]}))[:4]
