"""Where requests go and how fast: one config for every paid command, one validation, one builder.

    endpoint = Endpoint(model="gpt-4o-mini", concurrency=16, rpm=500)
    backend = build_backend(endpoint, api_key=key)            # an OpenAI-compatible client
    backend = build_backend(Endpoint(model="runs/alpaca-tiny", backend="transformers"))

`generate`, `eval answer`, `eval judge` and `chat` each describe their endpoint with an `Endpoint`
(their configs' `endpoint()`), so a value one of them refuses is refused by all, with the same words.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

BACKENDS = {
    "openai": "any OpenAI-compatible endpoint: OpenAI, vLLM, llama.cpp server, Ollama, TGI",
    "transformers": "a local transformers checkpoint (a path), in-process",
}
APIS = ("chat", "completions")


@dataclass(frozen=True)
class Endpoint:
    model: str
    """The model's name at the endpoint, or a checkpoint folder for the transformers backend."""
    backend: str = "openai"
    """openai (any OpenAI-compatible endpoint) or transformers (a local checkpoint, in-process)."""
    api: str = "chat"
    """chat (Chat Completions, one prompt per request) or completions (legacy, several prompts per request)."""
    base_url: str | None = None
    """Endpoint root, e.g. http://localhost:8000/v1; None: OPENAI_BASE_URL, else OpenAI."""
    timeout_s: float = 120.0
    """Per-attempt HTTP timeout, in seconds."""
    rpm: float | None = None
    """Client-side limit on requests per minute."""
    tpm: float | None = None
    """Client-side limit on tokens per minute (prompt tokens + max_tokens, as providers count them)."""
    concurrency: int = 8
    """Requests in flight at once."""
    prompts_per_request: int = 1
    """Prompts sent in one request (the completions API and the in-process model take several)."""
    batch_size: int = 16
    """In-process: prompts gathered into one model.generate call."""

    def __post_init__(self) -> None:
        check_endpoint(self)

    @property
    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None


def check_endpoint(e: Endpoint) -> None:
    """A ValueError naming the field for any value no endpoint can work with."""
    checks = [
        ("backend", e.backend in BACKENDS, "must be " + " or ".join(BACKENDS)),
        ("api", e.api in APIS, "must be chat or completions"),
        ("timeout", math.isfinite(e.timeout_s) and e.timeout_s > 0, "must be a positive number of seconds"),
        ("rpm", e.rpm is None or (math.isfinite(e.rpm) and e.rpm > 0), "must be positive"),
        ("tpm", e.tpm is None or (math.isfinite(e.tpm) and e.tpm > 0), "must be positive"),
        ("concurrency", e.concurrency >= 1, "must be at least 1"),
        ("prompts_per_request", e.prompts_per_request >= 1, "must be at least 1"),
        ("batch_size", e.batch_size >= 1, "must be at least 1"),
    ]
    for name, ok, message in checks:
        if not ok:
            value = e.timeout_s if name == "timeout" else getattr(e, name)
            raise ValueError(f"{name} {message} (got {value!r})")
    if e.base_url is not None:
        check_base_url(e.base_url)


def check_base_url(url: str, *, name: str = "base_url") -> None:
    """An http(s) URL with a host (and a numeric port, if any): anything else would be retried for minutes."""
    from records.redact import redact_url

    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"{name} must be an http:// or https:// URL with a host, such as "
                         f"http://localhost:8000/v1 (got {shown!r})")


def build_backend(endpoint, *, api_key: str | None = None, count_tokens=None):
    """The one place that turns an endpoint (an `Endpoint`, or a config with an `endpoint()`) into a
    backend. The key comes from the argument or OPENAI_API_KEY, never from a config."""
    if not isinstance(endpoint, Endpoint):
        endpoint = endpoint.endpoint()
    if endpoint.backend == "openai":
        from modelcalls.backends.openai_backend import OpenAIBackend

        base_url = endpoint.resolved_base_url
        if base_url is not None:
            check_base_url(base_url, name="OPENAI_BASE_URL" if endpoint.base_url is None else "base_url")
        return OpenAIBackend(endpoint.model, api=endpoint.api, base_url=base_url,
                             api_key=api_key or os.environ.get("OPENAI_API_KEY"),
                             prompts_per_request=endpoint.prompts_per_request, timeout_s=endpoint.timeout_s,
                             rpm=endpoint.rpm, tpm=endpoint.tpm, count_tokens=count_tokens)
    from modelcalls.backends.transformers_backend import TransformersBackend

    # --api completions continues the raw prompt; chat wraps it in the checkpoint's chat template, if any.
    return TransformersBackend(endpoint.model, prompts_per_request=endpoint.prompts_per_request,
                               chat_template=False if endpoint.api == "completions" else None,
                               batch_size=endpoint.batch_size)
