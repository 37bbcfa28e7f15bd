"""Run the sieve in a child process so that deciding candidates never holds up requests in flight.

The event loop's process keeps HTTP and the journal; the child (`python -m selfinstruct.sieve_worker`)
holds the order-dependent dedup state. Batches of responses go over a pipe in arrival order, so
decisions are the same as with an in-process Sieve; this process mirrors what the loop needs: kept
and dropped records, and the counts. The child is our own program, started from our own code, so
the pipe carries pickles. It ignores Ctrl-C and exits when its input closes.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import struct
import sys

from selfinstruct.errors import SelfInstructError
from selfinstruct.sieve import Sieve, SieveStats

_HEADER = struct.Struct("!Q")


def sieve_batch(sieve: Sieve, arrived: list[tuple[dict, dict]]) -> list[tuple[list, list, int, list]]:
    """Sieve responses in arrival order; per response: (newly kept, newly dropped, items parsed,
    newly accepted tasks). Items are candidates, or for a self-instruct instance or classification
    reply, the one answer it gave."""
    outcomes = []
    for request, response in arrived:
        n_kept, n_dropped, n_tasks = len(sieve.kept), len(sieve.dropped), len(sieve.tasks)
        n_candidates, n_unparsed = sieve.stats.candidates, sieve.stats.unparsed
        sieve.admit_response(request, response)
        unparsed = sieve.stats.unparsed - n_unparsed
        parsed = max(0, sieve.stats.candidates - n_candidates - unparsed)  # candidates the parser could read
        if request.get("stage") == "instances":
            parsed += len(sieve.kept) - n_kept + len(sieve.dropped) - n_dropped - unparsed
        elif request.get("stage") == "classify":
            parsed += 1
        outcomes.append((sieve.kept[n_kept:], sieve.dropped[n_dropped:], parsed, sieve.tasks[n_tasks:]))
    return outcomes


class SieveWorker:
    """An async front for a Sieve living in a child process. Create it with `await SieveWorker.start(...)`."""

    def __init__(self, process: asyncio.subprocess.Process, seed_instructions: list[str]):
        self._proc = process
        self.seed_instructions = seed_instructions
        self.kept: list[dict] = []
        self.dropped: list[dict] = []
        self.tasks: list[dict] = []
        self.stats = SieveStats()

    @classmethod
    async def start(cls, seed_instructions: list[str], **options) -> SieveWorker:
        """`options` are `Sieve`'s keyword arguments (`resieve.sieve_options(cfg)`: the run's SieveOptions)."""
        # The child sees the same import path as this process (an editable checkout, pytest's rootdir).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "selfinstruct.sieve_worker",
                                                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                    env=env, limit=2**26)
        worker = cls(proc, list(seed_instructions))
        await worker._send((worker.seed_instructions, options))
        return worker

    async def _send(self, obj) -> None:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        self._proc.stdin.write(_HEADER.pack(len(data)) + data)
        await self._proc.stdin.drain()

    async def admit(self, arrived: list[tuple[dict, dict]]) -> list[tuple[list, list, int, list]]:
        if not arrived:
            return []
        await self._send(arrived)
        try:
            (size,) = _HEADER.unpack(await self._proc.stdout.readexactly(_HEADER.size))
            outcomes, self.stats = pickle.loads(await self._proc.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            code = await self._proc.wait()
            raise SelfInstructError(f"the sieve process exited with status {code}; the journal is intact, "
                                    "run the same command again to resume") from None
        for kept, dropped, _, tasks in outcomes:
            self.kept += kept
            self.dropped += dropped
            self.tasks += tasks
        return outcomes

    async def close(self) -> None:
        if self._proc.returncode is None:
            self._proc.stdin.close()
            await self._proc.wait()


def _read(stream):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _serve() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes our input
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    seed_instructions, options = _read(stdin)
    sieve = Sieve(seed_instructions, **options)
    while (arrived := _read(stdin)) is not None:
        data = pickle.dumps((sieve_batch(sieve, arrived), sieve.stats), protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    _serve()
