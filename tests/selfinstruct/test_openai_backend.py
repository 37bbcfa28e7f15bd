"""The OpenAI backend against a loopback server, through the real openai client."""

import asyncio

import pytest

from modelcalls.backends.base import Decoding
from modelcalls.backends.openai_backend import OpenAIBackend
from modelcalls.backends.ratelimit import RateLimiter, RetryPolicy
from selfinstruct.errors import BackendError

FAST_RETRY = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.05)
PROMPT = "Write tasks.\n###\n1. Instruction: Name a river.\n1. Input:\n<noinput>\n1. Output:\nNile\n###\n2. Instruction:"


def run(coro):
    return asyncio.run(coro)


def backend(server, **kw):
    return OpenAIBackend("loopback-model", base_url=server.url, api_key="sk-test", retry=FAST_RETRY, **kw)


def test_chat_happy_path(server):
    response = run(backend(server).complete([PROMPT], Decoding(max_tokens=2000, stop=("22. Instruction:",))))
    assert len(response.completions) == 1 and response.completions[0].finish_reason == "stop"
    assert "2. Input:" in response.completions[0].text
    assert response.usage["prompt_tokens"] > 0 and response.attempts == 1
    body = server.requests[0]["body"]
    assert server.requests[0]["path"] == "/v1/chat/completions"
    assert body["messages"][0]["content"] == PROMPT and body["stop"] == ["22. Instruction:"]
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_legacy_completions_sends_several_prompts_in_one_request(server):
    b = backend(server, api="completions", prompts_per_request=3)
    response = run(b.complete([PROMPT, PROMPT, PROMPT], Decoding(max_tokens=2000)))
    assert len(response.completions) == 3 and len(server.requests) == 1
    assert server.requests[0]["path"] == "/v1/completions" and len(server.requests[0]["body"]["prompt"]) == 3


def test_429_waits_for_retry_after(server):
    server.script.extend(["429"])
    b = backend(server)
    response = run(b.complete([PROMPT], Decoding()))
    assert response.attempts == 2 and b.retries == {"rate_limited": 1}
    assert len(server.requests) == 2


def test_retry_after_pauses_the_limiter():
    async def scenario():
        limiter = RateLimiter()
        loop = asyncio.get_running_loop()
        limiter.pause_until(loop.time() + 0.3)  # same clock as time.monotonic
        t0 = loop.time()
        await limiter.acquire(10)
        return loop.time() - t0

    assert run(scenario()) >= 0.25


def test_rpm_limit_spaces_requests():
    async def scenario():
        limiter = RateLimiter(rpm=600)  # 10 per second, bucket of 600: the first 600 pass at once
        for _ in range(600):
            await limiter.acquire(1)
        t0 = asyncio.get_running_loop().time()
        await limiter.acquire(1)  # must wait for a refill of one request: 0.1 s
        return asyncio.get_running_loop().time() - t0

    assert run(scenario()) >= 0.05


def test_500_retries_with_backoff(server):
    server.script.extend(["500", "500"])
    b = backend(server)
    response = run(b.complete([PROMPT], Decoding()))
    assert response.attempts == 3 and b.retries == {"InternalServerError": 2}


def test_timeout_is_retried(server):
    server.script.extend(["hang"])
    b = backend(server, timeout_s=0.5)
    response = run(b.complete([PROMPT], Decoding()))
    assert response.attempts == 2 and b.retries == {"APITimeoutError": 1}
    assert len(server.requests) == 2


def test_broken_connection_is_retried(server):
    server.script.extend(["drop"])
    b = backend(server)
    response = run(b.complete([PROMPT], Decoding()))
    assert response.attempts == 2 and b.retries == {"APIConnectionError": 1}


def test_gives_up_after_max_attempts(server):
    server.script.extend(["500"] * 10)
    with pytest.raises(BackendError, match="gave up after 4 attempts"):
        run(backend(server).complete([PROMPT], Decoding()))
    assert len(server.requests) == 4


def test_bad_key_fails_at_once(server):
    server.script.extend(["401"] * 10)
    with pytest.raises(BackendError, match="refused the API key"):
        run(backend(server).complete([PROMPT], Decoding()))
    assert len(server.requests) == 1


def test_unknown_model_fails_at_once(server):
    server.script.extend(["404"])
    with pytest.raises(BackendError, match="model 'loopback-model' was not found"):
        run(backend(server).complete([PROMPT], Decoding()))
    assert len(server.requests) == 1


def test_cut_reply_reports_length(server):
    response = run(backend(server).complete([PROMPT], Decoding(max_tokens=50)))
    assert response.completions[0].finish_reason == "length"


def test_retry_backoff_is_capped_and_jittered():
    policy = RetryPolicy(base_s=1.0, cap_s=8.0)
    waits = [policy.backoff_s(a) for a in range(1, 10)]
    assert all(0.5 <= w <= 8.0 for w in waits)
    assert 0.5 <= waits[0] <= 1.0 and 4.0 <= waits[-1] <= 8.0


@pytest.mark.parametrize("fault", ["truncated", "html", "no_choices"])
def test_malformed_reply_is_retried_like_5xx(server, fault):
    server.script.extend([fault])
    b = backend(server)
    response = run(b.complete([PROMPT], Decoding()))
    assert response.attempts == 2 and b.retries == {"malformed_reply": 1}


def test_malformed_replies_give_up_after_max_attempts(server):
    server.script.extend(["html"] * 10)
    with pytest.raises(BackendError, match="gave up after 4 attempts"):
        run(backend(server).complete([PROMPT], Decoding()))


def test_lone_surrogate_is_escaped_so_the_text_encodes(server):
    server.script.extend(["surrogate"])
    text = run(backend(server).complete([PROMPT], Decoding())).completions[0].text
    assert "\\ud800" in text
    text.encode("utf-8")  # would raise UnicodeEncodeError on a lone surrogate


def test_refused_first_connection_is_a_configuration_error():
    import socket

    from selfinstruct.errors import ConfigError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    b = OpenAIBackend("m", base_url=f"http://127.0.0.1:{port}/v1", retry=RetryPolicy(max_attempts=50, base_s=5, cap_s=5))
    with pytest.raises(ConfigError, match="connection refused"):
        run(b.complete([PROMPT], Decoding()))
    assert b.retries == {}
