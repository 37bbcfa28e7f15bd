"""Any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, Ollama, TGI) through the official client.

Errors are classified once, here: 429 waits for Retry-After (and pauses every request); 5xx,
timeouts and broken connections retry with capped, jittered backoff; a bad key, a missing model or
an exhausted quota stop the run at once with a message that says what to fix. The client's own
retries are off so that every attempt is counted and logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
import logging
import random
import time
from typing import Iterator
from urllib.parse import parse_qsl

import openai

from records.redact import endpoint_host, redact_text, redact_url
from modelcalls.backends.base import Completion, Decoding, Response
from modelcalls.backends.ratelimit import RateLimiter, RetryPolicy
from modelcalls.errors import BackendError, ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_RECORDED_CHARS = 65536  # of an unreadable reply's body, kept in the journal
# A reply's body may hold at most this many bytes per token asked for (JSON-escaped text of any
# script stays far below it), plus room for the envelope; past that it is cut and marked.
MAX_REPLY_BYTES_PER_TOKEN = 32
MAX_REPLY_OVERHEAD = 64 * 1024
OVERSIZED = "oversized"  # the finish_reason journaled for a reply cut at that bound
BATCH_FILE_TIMEOUT_S = 600.0  # uploading or downloading one batch file (the API takes up to 200 MB)


class OpenAIBackend:
    """Chat Completions (one prompt per request) or legacy Completions (several prompts per request)."""

    name = "openai"

    def __init__(self, model: str, *, api: str = "chat", base_url: str | None = None, api_key: str | None = None,
                 prompts_per_request: int = 1, timeout_s: float = 120.0, rpm: float | None = None,
                 tpm: float | None = None, retry: RetryPolicy = RetryPolicy(), count_tokens=None,
                 rng: random.Random | None = None):
        if api not in ("chat", "completions"):
            raise ValueError(f"api must be 'chat' or 'completions', got {api!r}")
        self.model, self.api = model, api
        self.base_url = base_url or DEFAULT_BASE_URL
        self.shown_url = redact_url(self.base_url)  # what messages print: no userinfo, no key in the query
        self.endpoint_host = endpoint_host(self.base_url)
        self.provider = "openai" if self.endpoint_host.endswith("openai.com") else "openai-compatible"
        # Chat requests carry one prompt; the legacy API takes a list (Alpaca sent 5 per call).
        self.prompts_per_request = prompts_per_request if api == "completions" else 1
        # Local servers accept any key; the client insists on a non-empty one.
        # A query in the endpoint URL (e.g. ?api-key=, as some gateways want) goes with every request;
        # left in base_url the client would glue the route after it.
        root, _, query = self.base_url.partition("?")
        self._client_options = {"api_key": api_key or "no-key", "base_url": root, "timeout": timeout_s,
                                "max_retries": 0, "default_query": dict(parse_qsl(query)) or None}
        self._client = openai.AsyncOpenAI(**self._client_options)
        self._sync_client: openai.OpenAI | None = None  # made by the first `stream` (a chat)
        self._limiter = RateLimiter(rpm, tpm)
        self._retry = retry
        self._count = count_tokens or (lambda text: len(text) // 4)
        self._rng = rng or random.Random()
        self._use_max_completion_tokens = False
        self.retries: dict[str, int] = {}  # retried errors by kind, for the run summary
        self._reached = False  # set once any request got an HTTP answer

    async def complete(self, prompts: list[str], decoding: Decoding) -> Response:
        tokens = sum(self._count(p) for p in prompts) + decoding.max_tokens * len(prompts)
        rejected: list[dict] = []  # what unreadable replies held, journaled with the response
        for attempt in range(1, self._retry.max_attempts + 1):
            await self._limiter.acquire(tokens)
            try:
                response = await self._request(prompts, decoding, attempt)
                self._reached = True
                return dataclasses.replace(response, rejected=tuple(rejected)) if rejected else response
            except MalformedReply as e:
                self._reached = True
                rejected.append({"attempt": attempt, "error": str(e), "received": e.received})
                await asyncio.sleep(self._note("malformed_reply", attempt, self._retry.backoff_s(attempt, self._rng), e))
            except openai.OpenAIError as e:
                await asyncio.sleep(self._after_failure(e, attempt))
        raise BackendError(f"gave up after {self._retry.max_attempts} attempts against {self.endpoint_host}; "
                           f"retried errors: {self.retries}")

    def _after_failure(self, e: openai.OpenAIError, attempt: int) -> float:
        """The one classification of a failed attempt, for `complete` and `stream` alike: the seconds
        to wait before the next attempt, or a BackendError (ConfigError) when retrying cannot help."""
        if isinstance(e, openai.APIConnectionError):  # timeouts included
            if not self._reached and _refused(e):
                raise ConfigError(f"nothing listens at {self.shown_url} (connection refused): check --base-url "
                                  "and that the server is running") from None
            return self._note(type(e).__name__, attempt, self._retry.backoff_s(attempt, self._rng), e)
        self._reached = True
        if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError)):
            raise BackendError(f"{self.endpoint_host} refused the API key ({e.status_code}): set a valid "
                               "OPENAI_API_KEY or pass --api-key") from None
        if isinstance(e, openai.NotFoundError):
            raise BackendError(f"model {self.model!r} was not found at {self.shown_url} (404): check --model, "
                               "and --base-url for a local server") from None
        if isinstance(e, openai.BadRequestError):
            if not self._use_max_completion_tokens and "max_completion_tokens" in str(e):
                self._use_max_completion_tokens = True  # newer OpenAI models renamed max_tokens
                return 0.0
            raise BackendError(f"the request was refused as invalid (400): {_message(e)}; "
                               "if the prompt plus --max-tokens exceeds the context, lower --max-tokens") from None
        if isinstance(e, openai.RateLimitError):
            if getattr(e, "code", None) == "insufficient_quota":
                raise BackendError(f"{self.endpoint_host}: quota exhausted (429 insufficient_quota): "
                                   "add credit or use another key") from None
            wait = _retry_after_s(e) or self._retry.backoff_s(attempt, self._rng)
            self._limiter.pause_until(time.monotonic() + wait)
            self._note("rate_limited", attempt, wait, e)
            return 0.0  # the limiter holds every request until then
        if isinstance(e, openai.APIStatusError):
            if isinstance(e, openai.InternalServerError) or e.status_code in (408, 409) or e.status_code >= 500:
                kind = type(e).__name__ if isinstance(e, openai.InternalServerError) else f"http_{e.status_code}"
                return self._note(kind, attempt, self._retry.backoff_s(attempt, self._rng), e)
            raise BackendError(f"{self.endpoint_host} answered {e.status_code}: {_message(e)}") from None
        raise BackendError(f"{self.endpoint_host}: {_message(e)}") from None

    def _note(self, kind: str, attempt: int, wait: float, error: Exception) -> float:
        """Count a retried error and log it; returns the wait."""
        self.retries[kind] = self.retries.get(kind, 0) + 1
        log.warning("attempt %d: %s (%s); retrying in %.1fs", attempt, kind, _message(error), wait)
        return wait

    @property
    def route(self) -> str:
        """The path a request goes to below the endpoint root, as a Batch API input line names it."""
        return "/v1/chat/completions" if self.api == "chat" else "/v1/completions"

    def request_body(self, prompt: list[dict] | list[str], decoding: Decoding) -> dict:
        """The JSON body of one request, the one place it is built (sent now, or written into a batch
        file): chat messages (or one prompt as the user turn) for Chat Completions, texts for the
        legacy Completions API."""
        common = {"model": self.model, "temperature": decoding.temperature, "top_p": decoding.top_p}
        if decoding.stop:
            common["stop"] = list(decoding.stop)
        if decoding.seed is not None:
            common["seed"] = decoding.seed
        if self.api == "chat":
            messages = prompt if prompt and isinstance(prompt[0], dict) else [{"role": "user", "content": prompt[0]}]
            limit_key = "max_completion_tokens" if self._use_max_completion_tokens else "max_tokens"
            return {"messages": messages, limit_key: decoding.max_tokens, **common}
        return {"prompt": prompt, "max_tokens": decoding.max_tokens, **common}

    def _resource(self, client):
        return client.chat.completions if self.api == "chat" else client.completions

    def batch_client(self) -> openai.AsyncOpenAI:
        """A client for the files and batches APIs at the same endpoint, with the same key. These few
        calls use the client's own retries (a lost poll is simply made again) and a timeout long
        enough to move a file of up to 200 MB."""
        timeout = max(self._client_options["timeout"], BATCH_FILE_TIMEOUT_S)
        return openai.AsyncOpenAI(**{**self._client_options, "max_retries": 5, "timeout": timeout})

    async def _request(self, prompts: list[str], decoding: Decoding, attempt: int) -> Response:
        resource, arguments = self._resource(self._client), self.request_body(prompts, decoding)
        # The body is read in pieces and cut at a bound set by --max-tokens: a server that sends
        # megabytes for a few thousand tokens is answered by an empty, marked reply, not held in memory.
        limit = MAX_REPLY_OVERHEAD + MAX_REPLY_BYTES_PER_TOKEN * decoding.max_tokens * len(prompts)
        body = bytearray()
        async with resource.with_streaming_response.create(**arguments) as raw:
            async for chunk in raw.iter_bytes():
                body += chunk
                if len(body) > limit:
                    return self._oversized(prompts, decoding, len(body), limit, attempt)
        text = bytes(body).decode("utf-8", "replace")
        try:
            return self.parse_reply(json.loads(text), prompts, attempt)
        except (json.JSONDecodeError, MalformedReply) as e:
            # a cut JSON body, an HTML page or a body of the wrong shape: the server misbehaved, not us
            why = str(e) if isinstance(e, MalformedReply) else f"unreadable reply ({type(e).__name__}: {str(e)[:300]})"
            raise MalformedReply(why, received=_escape_surrogates(text[:MAX_RECORDED_CHARS])) from None

    def _oversized(self, prompts: list[str], decoding: Decoding, received: int, limit: int, attempt: int) -> Response:
        """A reply past the bound: journaled as empty completions marked "oversized" (no task comes of
        it, so it counts toward a run's stall rules), priced as if every prompt used --max-tokens."""
        self.retries["oversized_reply"] = self.retries.get("oversized_reply", 0) + 1
        if self.retries["oversized_reply"] == 1:  # once: a server that does it does it to every request
            log.warning("a reply from %s passed %d bytes (more than %d tokens could take); it was cut and counts "
                        "as empty (finish_reason %r in the journal)", self.endpoint_host, limit, decoding.max_tokens,
                        OVERSIZED)
        usage = {"prompt_tokens": sum(self._count(p) for p in prompts),
                 "completion_tokens": decoding.max_tokens * len(prompts)}
        return Response([Completion("", OVERSIZED) for _ in prompts], usage, attempts=attempt)

    def stream(self, prompt: str | list[dict], decoding: Decoding) -> Iterator[str]:
        """One reply in pieces as the server sends them: chat messages (or a text as the user turn)
        through Chat Completions, or a text through the legacy API. The same limits, retries (until
        the first piece arrives) and error messages as `complete`."""
        prompts = [prompt] if isinstance(prompt, str) else prompt
        tokens = sum(self._count(m["content"] if isinstance(m, dict) else m) for m in prompts) + decoding.max_tokens
        for attempt in range(1, self._retry.max_attempts + 1):
            self._limiter.acquire_blocking(tokens)
            started = False
            try:
                for piece in self._stream_once(prompts, decoding):
                    started = True
                    yield piece
                return
            except openai.OpenAIError as e:
                if started:
                    raise BackendError(f"the reply from {self.endpoint_host} broke off: {_message(e)}") from None
                time.sleep(self._after_failure(e, attempt))
        raise BackendError(f"gave up after {self._retry.max_attempts} attempts against {self.endpoint_host}; "
                           f"retried errors: {self.retries}")

    def served_model(self) -> str | None:
        """The first model the server lists (a local server serves one), or None when it lists none."""
        try:
            return next(iter(self._blocking_client().models.list())).id
        except (openai.OpenAIError, StopIteration):
            return None

    def _blocking_client(self) -> openai.OpenAI:
        if self._sync_client is None:
            self._sync_client = openai.OpenAI(**self._client_options)
        return self._sync_client

    def _stream_once(self, prompts, decoding: Decoding) -> Iterator[str]:
        resource = self._resource(self._blocking_client())
        with resource.create(**self.request_body(prompts, decoding), stream=True) as chunks:
            self._reached = True
            for chunk in chunks:
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                piece = choice.delta.content if self.api == "chat" else choice.text
                if piece:
                    yield _escape_surrogates(piece)

    def parse_reply(self, body: dict, prompts: list[str], attempt: int = 1) -> Response:
        """The completions of a reply's JSON body (received now, or read from a batch's results);
        MalformedReply when it has the wrong shape."""
        try:
            return self._parsed(body, prompts, attempt)
        except (AttributeError, TypeError, KeyError, ValueError) as e:
            raise MalformedReply(f"unreadable reply ({type(e).__name__}: {str(e)[:300]})") from None

    def _parsed(self, body: dict, prompts: list[str], attempt: int) -> Response:
        choices = body["choices"]
        if self.api == "chat":
            completions = [Completion(_escape_surrogates(c["message"].get("content") or ""), c.get("finish_reason"))
                           for c in choices[:1]]
        else:
            by_index = sorted(choices, key=lambda c: c.get("index") or 0)
            completions = [Completion(_escape_surrogates(c.get("text") or ""), c.get("finish_reason")) for c in by_index]
        if len(completions) != len(prompts):
            raise MalformedReply(f"{self.endpoint_host} returned {len(completions)} choices for {len(prompts)} prompts")
        usage = body.get("usage")
        usage = {"prompt_tokens": usage.get("prompt_tokens") or 0,
                 "completion_tokens": usage.get("completion_tokens") or 0} if usage else {}
        return Response(completions, usage, attempts=attempt)

    async def aclose(self) -> None:
        await self._client.close()
        if self._sync_client is not None:
            self._sync_client.close()


class MalformedReply(Exception):
    """A 200 whose body is not a usable completion: retried like a 5xx; `received` is the body."""

    def __init__(self, message: str, received: str = ""):
        super().__init__(message)
        self.received = received


def _escape_surrogates(text: str) -> str:
    """Lone surrogates cannot be written as UTF-8: keep them visible as \\udXXX escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _refused(error: Exception) -> bool:
    """Whether a connection error was the endpoint refusing the TCP connection (nothing listens)."""
    seen = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after_s(error: openai.APIStatusError) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if the server sent one."""
    headers = error.response.headers if error.response is not None else {}
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def _message(error: Exception) -> str:
    return redact_text(str(getattr(error, "message", None) or error))[:300]
