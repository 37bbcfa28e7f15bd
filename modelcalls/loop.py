"""The one request loop under every paid command: generation, `eval answer`, `eval judge`.

    calls = Calls(journal, concurrency=8, max_cost=2.0, max_tokens=1024, price_of=lambda r: price, counter=counter)
    await run_requests(calls, requests, backend, decoding)        # a fixed list: answer, judge

`Calls` holds the requests of one run in flight. It journals each request before sending it (one
already in the journal is not written again), reserves its worst-case cost against `max_cost` and
stops issuing before the spend could pass it, limits how many are in flight (adapting to a server
that queues), journals every response the moment it arrives (flushed before it is used) and adds
its tokens and dollars to `usage`. On any exit, Ctrl-C and SIGTERM included, `drain` waits for the
requests in flight so that every response paid for reaches the journal. Generation drives `Calls`
step by step (its requests depend on what the sieve kept); fixed lists go through `run_requests`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from modelcalls.accounting import Usage, journaled_usage, max_request_cost
from modelcalls.backends.base import Backend, Decoding
from modelcalls.concurrency import AdaptiveLimit
from modelcalls.journal import Journal
from modelcalls.pricing import Price
from modelcalls.tokens import TokenCounter

log = logging.getLogger(__name__)


class Calls:
    """The requests of one run: in flight, journaled, limited, paid for."""

    def __init__(self, journal: Journal, *, concurrency: int, max_tokens: int, price_of: Callable[[dict], Price],
                 counter: TokenCounter, max_cost: float | None = None, adaptive_timeout_s: float | None = None,
                 usage: Usage | None = None):
        self.journal, self.max_tokens, self.max_cost = journal, max_tokens, max_cost
        self.price_of, self.counter = price_of, counter
        self.in_flight: dict[asyncio.Task, tuple[dict, float]] = {}  # task -> (request, dollars reserved)
        # Over the network, latency near the timeout means the server queues requests: send fewer at once.
        self.limit = AdaptiveLimit(concurrency, adaptive_timeout_s)
        self.usage = usage if usage is not None else journaled_usage(journal.state, price_of, counter)
        self.stopped_by: str | None = None
        """"max_cost" once a request was held back because it could pass the budget."""

    @property
    def room(self) -> bool:
        """Whether another request may go out now."""
        return self.stopped_by is None and len(self.in_flight) < self.limit.value

    def reserve(self, request: dict) -> float | None:
        """The worst-case dollars `request` reserves; None (and the run stops issuing) when sending it
        could take the spend of all sessions past `max_cost`."""
        if self.max_cost is None:  # nothing to hold back: no need to count the prompt's tokens
            return 0.0
        cost = max_request_cost(request["prompts"], self.max_tokens, self.price_of(request), self.counter)
        reserved = sum(r for _, r in self.in_flight.values())
        if self.usage.dollars + reserved + cost > self.max_cost:
            self.stopped_by = "max_cost"
            return None
        return cost

    def send(self, request: dict, backend: Backend, decoding: Decoding, reserve: float = 0.0) -> None:
        """Journal `request` (unless the journal has it: a resumed run sends it again) and start it."""
        if request["id"] not in self.journal.state.requests:
            self.journal.write("request", **request)
        task = asyncio.create_task(complete_timed(backend, request, decoding))
        self.in_flight[task] = (request, reserve)

    async def wait(self, *others: asyncio.Task) -> set[asyncio.Task]:
        """Wait until a request in flight (or one of `others`) is done; return every task that is."""
        done, _ = await asyncio.wait([*self.in_flight, *others], return_when=asyncio.FIRST_COMPLETED)
        return done

    def receive(self, task: asyncio.Task) -> tuple[dict, dict]:
        """Journal a finished request's response, tell the limit, count its cost: (request, response).
        A request that failed (a BackendError) raises here; `drain` then keeps what else arrives."""
        request, _ = self.in_flight.pop(task)
        response = task.result()
        self.journal.write("response", **response)
        self.limit.observe(response["latency_s"])
        self.usage.add(response, request["prompts"], self.price_of(request), self.counter)
        return request, response

    async def drain(self) -> None:
        """After an error or an interrupt, still journal every response that arrives; the rest fail or
        are cancelled."""
        await drain_in_flight(self.in_flight, self.journal)


async def run_requests(calls: Calls, requests: Iterable[dict], backend: Backend, decoding: Decoding, *,
                       on_response: Callable[[dict, dict], None] | None = None,
                       progress: Callable[[], None] | None = None) -> None:
    """Send `requests` in order through `calls`, as many at once as it allows, until all are answered
    or the budget holds the next one back (`calls.stopped_by`). The journal is closed on every exit."""
    try:
        await send_requests(calls, requests, backend, decoding, on_response=on_response, progress=progress)
    finally:
        await calls.drain()
        calls.journal.close()


async def send_requests(calls: Calls, requests: Iterable[dict], backend: Backend, decoding: Decoding, *,
                        on_response: Callable[[dict, dict], None] | None = None,
                        progress: Callable[[], None] | None = None) -> None:
    """`run_requests` without the closing: for a caller that goes on with the same journal."""
    todo = deque(requests)
    while True:
        while todo and calls.room:
            reserve = calls.reserve(todo[0])
            if reserve is None:
                break
            calls.send(todo.popleft(), backend, decoding, reserve)
        if progress is not None:
            progress()
        if not calls.in_flight:
            break
        for task in await calls.wait():
            request, response = calls.receive(task)
            if on_response is not None:
                on_response(request, response)


async def complete_timed(backend: Backend, request: dict, decoding: Decoding) -> dict:
    """Send one journaled request and return its `response` journal record (latency, usage, replies)."""
    t0 = time.perf_counter()
    response = await backend.complete(request["prompts"], decoding)
    record = {"id": request["id"], "latency_s": round(time.perf_counter() - t0, 3), "attempts": response.attempts,
              "usage": response.usage,
              "completions": [{"text": c.text, "finish_reason": c.finish_reason} for c in response.completions]}
    if response.rejected:  # unreadable replies retried before this one: what the server sent, for the record
        record["rejected"] = list(response.rejected)
    return record


async def drain_in_flight(in_flight: dict, journal: Journal) -> None:
    """After an error, still journal every response that arrives; the rest fail or are cancelled."""
    if not in_flight:
        return
    if journal.broken:  # nothing more can be journaled: do not wait for what could not be kept
        for task in in_flight:
            task.cancel()
        await asyncio.wait(in_flight)
        return
    log.warning("waiting for %d requests in flight so their responses reach the journal "
                "(interrupt again to abandon them)", len(in_flight))
    done, _ = await asyncio.wait(in_flight, timeout=None)
    for task in done:
        if not task.cancelled() and task.exception() is None:
            journal.write("response", **task.result())
    in_flight.clear()


def run_resumable(coroutine, journal_dir) -> object:
    """`asyncio.run(coroutine)` for a paid run journaled in `journal_dir`: an interrupt (Ctrl-C, or
    SIGTERM turned into one by the command line) comes out as `Interrupted` saying where the
    responses are and how to resume."""
    from records.exits import Interrupted

    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        raise Interrupted(f"every response received is in {journal_dir}/journal.jsonl; run the same command "
                          "to resume") from None
