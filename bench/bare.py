"""The ceiling every request benchmark compares with: a bare AsyncOpenAI client, nothing around it."""

from __future__ import annotations

import asyncio
import time

import openai


async def bare_client(url: str, prompts: list[str], concurrency: int, *, model: str = "bench",
                      max_tokens: int = 1024, temperature: float | None = 0.0) -> float:
    """Seconds to send `prompts` as chat requests, `concurrency` at a time, and read every reply."""
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
    gate = asyncio.Semaphore(concurrency)
    extra = {} if temperature is None else {"temperature": temperature}

    async def one(prompt):
        async with gate:
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                                 max_tokens=max_tokens, **extra)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    elapsed = time.perf_counter() - t0
    await client.close()
    return elapsed
