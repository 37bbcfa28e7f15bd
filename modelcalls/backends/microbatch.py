"""Gather concurrent requests into batches for one in-process model.

The async engines (generate, eval answer) issue many `complete()` calls at once, each with a
prompt or a few. A local model is fastest when those prompts share its forward passes, so every
call puts its prompts on a queue and waits. A single drainer task starts a run of the model on a
worker thread; the run draws prompts from the queue as it has room (up to `batch_size` at a time,
all with the same decoding parameters) and hands each prompt's row back the moment it is done, so
a request is answered when its last prompt is done, while later requests keep joining the run.

A run's first draw takes prompts with its decoding from anywhere in the queue; later draws take
them only while the queue's oldest prompt has that decoding, so a request with other parameters
waits for the running rows to finish, never longer.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from modelcalls.backends.base import Decoding


@dataclass(frozen=True)
class Row:
    """One prompt's result from a batch: the text, why it ended, and its tokens."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


@dataclass
class _Job:
    prompts: list[str]
    decoding: Decoding
    future: asyncio.Future
    rows: list[Row | None] = field(default_factory=list)
    left: int = 0


class PromptFeed:
    """One run's view of the queue, used from the worker thread: `take(n)` draws up to n prompts,
    `put(k, row)` answers the k-th prompt drawn, `closed()` says the batcher is shutting down."""

    def __init__(self, batcher: "MicroBatcher", decoding: Decoding):
        self._batcher, self.decoding = batcher, decoding
        self.taken: list[tuple[_Job, int]] = []
        self.stopped = False  # set when the batcher closes: the run ends at its next step

    def take(self, n: int) -> list[str]:
        items = self._batcher._draw(self.decoding, n, first=not self.taken)
        self.taken += items
        return [job.prompts[i] for job, i in items]

    def put(self, k: int, row: Row) -> None:
        if not self.stopped:
            job, i = self.taken[k]
            self._batcher.loop.call_soon_threadsafe(_answer, job, i, row)

    def closed(self) -> bool:
        return self.stopped


def _answer(job: _Job, i: int, row: Row) -> None:
    job.rows[i] = row
    job.left -= 1
    if job.left == 0 and not job.future.done():
        job.future.set_result(job.rows)


RunBatch = Callable[[PromptFeed, Decoding], None]


class MicroBatcher:
    """Runs `run_batch(feed, decoding)` on a worker thread while prompts are queued."""

    def __init__(self, run_batch: RunBatch, batch_size: int):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._run, self.batch_size = run_batch, batch_size
        self.loop = asyncio.get_running_loop()
        self._waiting: deque[tuple[_Job, int]] = deque()
        self._lock = threading.Lock()  # the queue is drawn from the worker thread
        self._task: asyncio.Task | None = None
        self._feed: PromptFeed | None = None  # the run in progress
        self.batch_sizes: list[int] = []  # prompts per draw into the model, in order (tests, benchmarks)

    async def submit(self, prompts: list[str], decoding: Decoding) -> list[Row]:
        if not prompts:
            return []
        job = _Job(list(prompts), decoding, self.loop.create_future(), [None] * len(prompts), len(prompts))
        with self._lock:
            self._waiting.extend((job, i) for i in range(len(prompts)))
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._drain())
        return await job.future

    def _draw(self, decoding: Decoding, n: int, *, first: bool) -> list[tuple[_Job, int]]:
        """Up to n waiting prompts with `decoding` (see the module's note on fairness)."""
        taken, rest = [], deque()
        with self._lock:
            while self._waiting and len(taken) < n:
                item = self._waiting.popleft()
                if item[0].future.done():  # a cancelled caller
                    continue
                if item[0].decoding == decoding:
                    taken.append(item)
                elif first:
                    rest.append(item)
                else:
                    self._waiting.appendleft(item)
                    break
            self._waiting.extendleft(reversed(rest))
        if taken:
            self.batch_sizes.append(len(taken))
        return taken

    async def _drain(self) -> None:
        while True:
            await asyncio.sleep(0)  # callers scheduled in the same turn of the loop join the first draw
            with self._lock:
                live = [item for item in self._waiting if not item[0].future.done()]
                self._waiting = deque(live)
            if not live:
                return
            feed = self._feed = PromptFeed(self, live[0][0].decoding)
            try:
                await asyncio.to_thread(self._run, feed, feed.decoding)
            except Exception as error:  # the run failed: every request it drew from fails the same way
                failed = {id(job): job for job, _ in feed.taken}
                for job in failed.values():
                    if not job.future.done():
                        job.future.set_exception(error)
                with self._lock:
                    self._waiting = deque(item for item in self._waiting if id(item[0]) not in failed)

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            if self._feed is not None:
                self._feed.stopped = True
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
