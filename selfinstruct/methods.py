"""Generation methods: what a method is to the run loop, and the table of methods.

The run loop (`generate.py`) never looks inside a method. It asks the method's driver for the next
request, tells it what was sent and what came back, and sieves the candidates the replies hold. A
new method is a driver module beside `staged.py` and `batched.py` plus a line in `DRIVERS`.
"""

from __future__ import annotations

from typing import Callable, Protocol

from modelcalls.journal import JournalState
from selfinstruct.batched import AlpacaDriver
from selfinstruct.config import GenerateConfig
from selfinstruct.staged import StagedDriver


class Driver(Protocol):
    """Turns the sieve's state into the next request, and follows what was sent and answered."""

    def next(self, request_id: int, sieve, in_flight: dict, unsieved: int, pending: list[dict]) -> dict | None:
        """The request to send now (one of `pending`, journaled but unanswered, goes first), or None
        to wait for what is in flight and being sieved."""

    def issued(self, request: dict) -> None:
        """A request was sent (also called for every journaled request when a run resumes)."""

    def answered(self, request: dict, response: dict) -> None:
        """A response arrived (before the sieve decides on it)."""


def _alpaca(cfg: GenerateConfig, inputs, state: JournalState) -> Driver:
    # with a response model, an answer stage rewrites each accepted task's output
    return AlpacaDriver(cfg, inputs.seeds.tasks, inputs.template, state,
                        inputs.stage_templates and inputs.stage_templates.get("answer"))


def _self_instruct(cfg: GenerateConfig, inputs, state: JournalState) -> Driver:
    return StagedDriver(cfg, inputs.seeds.tasks, inputs.stage_templates, state)


DRIVERS: dict[str, Callable[[GenerateConfig, object, JournalState], Driver]] = {
    "alpaca": _alpaca,  # Alpaca's batched prompts
    "self-instruct": _self_instruct,  # Self-Instruct's staged pipeline
}


def driver_for(cfg: GenerateConfig, inputs, state: JournalState) -> Driver:
    """The driver of `cfg.method`, caught up with what `state` (the journal) already holds."""
    return DRIVERS[cfg.method](cfg, inputs, state)
