"""Re-sieve a run's journal: what a run loads from its configuration, and its journaled responses
decided again in arrival order.

Resuming a run, `--backend replay` and `--dry-run` on a run directory all start here, so the three
agree on the seeds, the templates, the prices and the token counter a journal is read with.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelcalls.accounting import Usage, journaled_usage
from selfinstruct.config import GenerateConfig
from modelcalls.journal import JournalState
from modelcalls.pricing import Price, load_pricing, price_for
from selfinstruct.prompts import load_shipped, load_template
from selfinstruct.seeds import load_seeds
from selfinstruct.sieve import Sieve
from selfinstruct.staged import ANSWER_TEMPLATE, StagePrompts, load_stage_templates
from modelcalls.tokens import TokenCounter, get_counter

ANSWERING = ("instances", "answers")  # the stages a --response-model answers


@dataclass
class RunInputs:
    """What a run's configuration loads: seeds, the template whose hash identifies the run (and the
    stage templates), the prices of the writing and the answering model, the token counter."""

    seeds: object
    template: object
    stage_templates: dict | None
    price: Price
    response_price: Price
    counter: TokenCounter

    def price_of(self, request: dict, *, separate_responder: bool = False) -> Price:
        """A request's price: the response model's for the answering stages when it has its own backend."""
        return self.response_price if separate_responder and request.get("stage") in ANSWERING else self.price


@dataclass
class Resieved:
    received: list[tuple[dict, dict]]  # (request, response) in arrival order
    usage: Usage
    sieve: Sieve | None  # None when the caller decides `received` elsewhere (generate's child process)


def load_run_inputs(cfg: GenerateConfig, *, offline: bool = False) -> RunInputs:
    pricing = load_pricing(cfg.pricing)
    template, stage_templates = method_templates(cfg)
    return RunInputs(load_seeds(cfg.seeds), template, stage_templates, price_for(cfg.model, pricing),
                     price_for(cfg.response_model or cfg.model, pricing), get_counter(cfg.model, offline=offline))


def method_templates(cfg: GenerateConfig):
    """(the template whose hash identifies the run, the stage templates or None)."""
    if cfg.method == "self-instruct":
        stages = load_stage_templates()
        return StagePrompts(stages), stages
    if cfg.response_model or cfg.response_base_url:
        return load_template(cfg.prompt_file), {"answer": load_shipped(ANSWER_TEMPLATE)}
    return load_template(cfg.prompt_file), None


def sieve_options(cfg: GenerateConfig) -> dict:
    """The keyword arguments of `Sieve` and `SieveWorker.start` for a run."""
    return {"options": cfg.sieve_options()}


def new_sieve(cfg: GenerateConfig, seed_instructions: list[str]) -> Sieve:
    return Sieve(seed_instructions, cfg.sieve_options())


def resieve(cfg: GenerateConfig, state: JournalState, inputs: RunInputs, *, decide: bool = True,
            separate_responder: bool = False) -> Resieved:
    """The journal's responses with their requests, in arrival order, and the usage they were paid.

    With `decide`, a fresh in-process sieve decides them (replay, plan); without, the caller feeds
    `received` to its own sieve (generate's child process)."""
    received = [(state.requests[r["id"]], r) for r in state.responses]
    usage = journaled_usage(state, lambda request: inputs.price_of(request, separate_responder=separate_responder),
                            inputs.counter)
    sieve = None
    if decide:
        sieve = new_sieve(cfg, [t.instruction for t in inputs.seeds.tasks])
        for request, response in received:
            sieve.admit_response(request, response)
    return Resieved(received, usage, sieve)
