"""Alpaca's method as a driver: every request is a batch of prompts that each ask for whole tasks
(instruction, input and output at once), sampled from the seeds and the records kept so far."""

from __future__ import annotations

from selfinstruct.config import GenerateConfig
from selfinstruct.payloads import make_request
from selfinstruct.staged import answer_request


class AlpacaDriver:
    """Alpaca's method: every request is a batch of prompts that each ask for whole tasks. With a
    response model, the tasks' outputs are set aside and each accepted task is answered by it."""

    def __init__(self, cfg: GenerateConfig, seeds, template, state, answer_template=None):
        self.cfg, self.seeds, self.template, self.answer_template = cfg, seeds, template, answer_template
        self.answering: set[str] = set()
        for request in state.requests.values():
            self.issued(request)

    def next(self, request_id, sieve, in_flight, unsieved, pending) -> dict | None:
        if self.answer_template is not None:
            if pending and pending[0].get("stage") == "answers":
                return pending[0]
            for task in sieve.tasks:
                if task["id"] not in self.answering and len(sieve.kept) < self.cfg.num_instructions:
                    return answer_request(request_id, task, self.answer_template)
            # tasks waiting for their answer count towards the records wanted
            if len(sieve.kept) + len(sieve.tasks) - sieve.stats.instances >= self.cfg.num_instructions:
                return None
        if enough_in_flight(self.cfg, sieve, in_flight, unsieved):
            return None
        if pending:
            return pending[0]
        request = make_request(request_id, self.cfg, self.seeds, self.template, sieve.kept)
        return {**request, "answered_elsewhere": True} if self.answer_template is not None else request

    def issued(self, request) -> None:
        if request.get("stage") == "answers":
            self.answering.add(request["task"]["id"])

    def answered(self, request, response) -> None:
        pass


def enough_in_flight(cfg: GenerateConfig, sieve, in_flight: dict, unsieved_prompts: int) -> bool:
    """Stop issuing once the prompts in flight and those awaiting the sieve should, at the yield
    seen so far, fill the gap."""
    need = cfg.num_instructions - len(sieve.kept)
    if need <= 0:
        return True
    per_prompt = len(sieve.kept) / sieve.stats.prompts if sieve.stats.prompts else cfg.expected_yield
    expected = per_prompt * (sum(len(req["prompts"]) for req, _ in in_flight.values()) + unsieved_prompts)
    return expected >= need
