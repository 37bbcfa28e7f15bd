"""What every backend returns and accepts: plain data, no HTTP or parsing here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Completion:
    """One prompt's reply. `finish_reason` is "stop" or "length" (the parser drops a cut last task)."""

    text: str
    finish_reason: str | None = "stop"


@dataclass(frozen=True)
class Response:
    """One request's result: a completion per prompt, in prompt order, and the usage the API reported."""

    completions: list[Completion]
    usage: dict = field(default_factory=dict)  # {"prompt_tokens": int, "completion_tokens": int}
    attempts: int = 1
    rejected: tuple[dict, ...] = ()
    """Unreadable replies retried before this one: {"attempt", "error", "received"} (the body as text)."""


@dataclass(frozen=True)
class Decoding:
    """Decoding parameters sent with every request (Alpaca: temperature 1.0, top_p 1.0)."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 3072
    stop: tuple[str, ...] = ()
    seed: int | None = None


class Backend(Protocol):
    """Turns prompts into completions, one per prompt, in order.

    `complete` is one request: the legacy Completions API sends all prompts in one call, the chat
    API takes one prompt per request. Retries, rate limits and error classification live inside.
    """

    name: str
    model: str
    provider: str
    endpoint_host: str
    prompts_per_request: int

    async def complete(self, prompts: list[str], decoding: Decoding) -> Response: ...

    async def aclose(self) -> None: ...
