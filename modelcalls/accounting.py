"""Tokens and dollars: estimated before a request is sent, summed from the API's `usage` after.

A response that came through the Batch API (it carries the `batch_id` it came in) is charged the
batch price; `sync_dollars` keeps what every response would have cost sent synchronously.
"""

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
    batched_requests: int = 0
    """Responses that came through the Batch API, charged at its price."""
    sync_dollars: float = 0.0
    """What the same responses would have cost as synchronous requests."""

    def add(self, response: dict, prompts: list[str], price: Price, counter: TokenCounter) -> None:
        usage = response.get("usage") or {}
        if usage:
            p, c = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        else:
            self.estimated_requests += 1
            p = sum(counter.count(x) for x in prompts)
            c = sum(counter.count(x["text"]) for x in response["completions"])
        batched = bool(response.get("batch_id"))
        self.requests += 1
        self.batched_requests += batched
        self.prompt_tokens += p
        self.completion_tokens += c
        self.dollars += (price.batch if batched else price).cost(p, c)
        self.sync_dollars += price.cost(p, c)

    def to_dict(self) -> dict:
        return {**asdict(self), "dollars": round(self.dollars, 6), "sync_dollars": round(self.sync_dollars, 6)}


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
