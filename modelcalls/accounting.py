"""Tokens and dollars: estimated before a request is sent, summed from the API's `usage` after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from modelcalls.pricing import Price
from modelcalls.tokens import TokenCounter


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    dollars: float = 0.0
    estimated_requests: int = 0
    """Responses without a `usage` field (some local servers): their tokens were counted here instead."""

    def add(self, response: dict, prompts: list[str], price: Price, counter: TokenCounter) -> None:
        usage = response.get("usage") or {}
        if usage:
            p, c = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        else:
            self.estimated_requests += 1
            p = sum(counter.count(x) for x in prompts)
            c = sum(counter.count(x["text"]) for x in response["completions"])
        self.requests += 1
        self.prompt_tokens += p
        self.completion_tokens += c
        self.dollars += price.cost(p, c)

    def to_dict(self) -> dict:
        return {**asdict(self), "dollars": round(self.dollars, 6)}


def journaled_usage(state, price_of: Callable[[dict], Price], counter: TokenCounter) -> Usage:
    """What the responses in a journal's state were paid, each priced by `price_of(request)`."""
    usage = Usage()
    for response in state.responses:
        request = state.requests[response["id"]]
        usage.add(response, request["prompts"], price_of(request), counter)
    return usage


def max_request_cost(prompts: list[str], max_tokens: int, price: Price, counter: TokenCounter) -> float:
    """The most one request can cost: its counted prompt tokens plus max_tokens for every prompt."""
    return price.cost(sum(counter.count(p) for p in prompts), max_tokens * len(prompts))
