"""What every backend returns and accepts: plain data, no HTTP or parsing here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol


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

    def __post_init__(self) -> None:
        check_decoding(self.temperature, self.top_p, self.max_tokens)


def check_decoding(temperature: float, top_p: float, max_tokens: int) -> None:
    """The decoding values every API accepts: a ValueError naming the first one that is not."""
    checks = [("temperature", 0 <= temperature <= 2, "must be in [0, 2]", temperature),
              ("top_p", 0 < top_p <= 1, "must be in (0, 1]", top_p),
              ("max_tokens", max_tokens >= 1, "must be at least 1", max_tokens)]
    for name, ok, message, value in checks:
        if not ok:
            raise ValueError(f"{name} {message} (got {value!r})")


class Backend(Protocol):
    """Turns prompts into completions, one per prompt, in order.

    `complete` is one request: the legacy Completions API sends all prompts in one call, the chat
    API takes one prompt per request. `stream` is one chat reply as it is made. Retries, rate limits
    and error classification live inside.
    """

    name: str
    model: str
    provider: str
    endpoint_host: str
    prompts_per_request: int

    async def complete(self, prompts: list[str], decoding: Decoding) -> Response: ...

    def stream(self, prompt: str | list[dict], decoding: Decoding) -> Iterator[str]:
        """One reply in pieces as it is made, for chat: to a list of chat messages ({"role", "content"}),
        or to a text used as given (a prompt already in the model's training format)."""
        ...

    async def aclose(self) -> None: ...
