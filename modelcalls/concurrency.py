"""How many requests to keep in flight against a server whose capacity is unknown.

A small local server (llama.cpp with one slot, a laptop Ollama) answers one request at a time:
the requests in flight queue inside it, each one's latency grows with their number, and at the
default 8 in flight the last ones pass the per-request timeout, are retried, and the server keeps
working on the abandoned ones. The rule here is additive increase, multiplicative decrease on
latency against `--timeout`: a response that took more than half the timeout halves the requests
in flight (never below 1); one that took less than a quarter lets one more go, up to
`--concurrency`. On a server that answers one at a time latency is roughly in-flight x service
time, so the number settles where that product stays under half the timeout; a server that scales
keeps `--concurrency`.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class AdaptiveLimit:
    def __init__(self, ceiling: int, timeout_s: float | None):
        self.ceiling = ceiling
        self.value = ceiling
        self.timeout_s = timeout_s
        self.lowest = ceiling

    def observe(self, latency_s: float) -> None:
        if not self.timeout_s:
            return
        if latency_s > self.timeout_s / 2 and self.value > 1:
            self.value = max(1, self.value // 2)
            if self.value < self.lowest:
                self.lowest = self.value
                log.warning("a response took %.0f s of the %.0f s timeout: the server seems to queue requests; "
                            "keeping at most %d in flight", latency_s, self.timeout_s, self.value)
        elif latency_s < self.timeout_s / 4 and self.value < self.ceiling:
            self.value += 1
