"""Client-side requests-per-minute and tokens-per-minute limits, and a shared pause after a 429."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass


class _Bucket:
    """A token bucket refilled continuously at `per_minute / 60` per second, holding at most `per_minute`."""

    def __init__(self, per_minute: float):
        self.capacity = float(per_minute)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.capacity / 60.0)
        self.stamp = now

    def wait_time(self, amount: float, now: float) -> float:
        self._refill(now)
        amount = min(amount, self.capacity)  # a request bigger than the bucket goes when it is full
        return 0.0 if self.level >= amount else (amount - self.level) * 60.0 / self.capacity

    def take(self, amount: float) -> None:
        self.level -= min(amount, self.capacity)


class RateLimiter:
    """Waits until a request fits under --rpm and --tpm; `pause_until` holds everyone after a 429."""

    def __init__(self, rpm: float | None = None, tpm: float | None = None):
        self._requests = _Bucket(rpm) if rpm else None
        self._tokens = _Bucket(tpm) if tpm else None
        self._resume_at = 0.0
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()

    def pause_until(self, monotonic_deadline: float) -> None:
        self._resume_at = max(self._resume_at, monotonic_deadline)

    async def acquire(self, tokens: int) -> None:
        async with self._lock:  # FIFO: requests leave in the order they asked
            while (wait := self._wait_s(tokens)) > 0:
                await asyncio.sleep(wait)
            self._take(tokens)

    def acquire_blocking(self, tokens: int) -> None:
        """`acquire` for a caller outside an event loop (a streamed chat reply)."""
        with self._thread_lock:
            while (wait := self._wait_s(tokens)) > 0:
                time.sleep(wait)
            self._take(tokens)

    def _wait_s(self, tokens: int) -> float:
        now = time.monotonic()
        return max(self._resume_at - now,
                   self._requests.wait_time(1, now) if self._requests else 0.0,
                   self._tokens.wait_time(tokens, now) if self._tokens else 0.0)

    def _take(self, tokens: int) -> None:
        if self._requests:
            self._requests.take(1)
        if self._tokens:
            self._tokens.take(tokens)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter (uniform in [d/2, d]) for 5xx, timeouts and lost connections."""

    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 60.0

    def backoff_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)
