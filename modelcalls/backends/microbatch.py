"""Gather concurrent requests into batches for one in-process model.

The async engines (generate, eval answer) issue many `complete()` calls at once, each with a
prompt or a few. A local model is fastest when those prompts share one forward pass, so every
call puts its prompts on a queue and waits; a single drainer task takes whatever is queued (up to
`batch_size` prompts with the same decoding parameters) and runs them as one batch on a worker
thread, while new calls keep queueing for the next batch. A request larger than `batch_size` is
spread over several batches and answered when its last prompt is done.
"""

from __future__ import annotations

import asyncio
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


RunBatch = Callable[[list[str], Decoding], list[Row]]


class MicroBatcher:
    """Runs `run_batch(prompts, decoding) -> rows` on a worker thread over batches of queued prompts."""

    def __init__(self, run_batch: RunBatch, batch_size: int):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._run, self.batch_size = run_batch, batch_size
        self.loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.batch_sizes: list[int] = []  # prompts per model call, in order (for tests and benchmarks)

    async def submit(self, prompts: list[str], decoding: Decoding) -> list[Row]:
        if not prompts:
            return []
        job = _Job(list(prompts), decoding, self.loop.create_future(), [None] * len(prompts), len(prompts))
        self._queue.put_nowait(job)
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._drain())
        return await job.future

    async def _drain(self) -> None:
        waiting: deque[tuple[_Job, int]] = deque()
        while True:
            if not waiting:
                self._admit(await self._queue.get(), waiting)
            await asyncio.sleep(0)  # callers scheduled in the same turn of the loop join this batch
            while not self._queue.empty():
                self._admit(self._queue.get_nowait(), waiting)
            waiting = deque(item for item in waiting if not item[0].future.done())  # cancelled callers
            if not waiting:
                continue
            decoding = waiting[0][0].decoding
            take, rest = [], deque()
            for item in waiting:
                (take if len(take) < self.batch_size and item[0].decoding == decoding else rest).append(item)
            waiting = rest
            self.batch_sizes.append(len(take))
            try:
                rows = await asyncio.to_thread(self._run, [job.prompts[i] for job, i in take], decoding)
            except Exception as error:  # the whole batch failed: every request in it fails the same way
                failed = {id(job) for job, _ in take}
                for job, _ in take:
                    if not job.future.done():
                        job.future.set_exception(error)
                waiting = deque(item for item in waiting if id(item[0]) not in failed)
                continue
            for (job, i), row in zip(take, rows):
                job.rows[i] = row
                job.left -= 1
                if job.left == 0 and not job.future.done():
                    job.future.set_result(job.rows)

    @staticmethod
    def _admit(job: _Job, waiting: deque) -> None:
        waiting.extend((job, i) for i in range(len(job.prompts)))

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
