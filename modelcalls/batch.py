"""Requests through an OpenAI-compatible Batch API: half the price, results within a day, never paid twice.

    outcome = await run_batched(calls, requests, backend, decoding, BatchOptions(poll_interval_s=30))

`decoding` is one `Decoding` for every request, or a function giving each request its own (stop
sequences and token limits differ between the requests of one generation wave).

Each request becomes one Batch API input line (`custom_id` "request-<journal id>", `method`, `url`,
and the `body` the backend would send synchronously: `OpenAIBackend.request_body`). The lines are
split into files of at most 50,000 requests and 200 MB, uploaded with purpose "batch", and each
file becomes a batch. Every step is journaled before the next one starts: "batch_file" once a file
is uploaded, "batch" once its batch exists. A run killed at any point therefore finds its batches
again: the same command re-attaches to the batches in flight (a file whose batch the journal does
not name is first looked for among the endpoint's recent batches), polls them, and downloads their
results.

Each result is journaled, in request order whatever order the files list them in, as an ordinary "response" (the record `loop.complete_timed` writes, plus
the `batch_id` it came in, which prices it at the batch rate), so everything that reads a journal
works unchanged; "batch_end" closes a batch and names the requests it did not answer. Those (an
error line, an expired or failed batch) are sent again: synchronously once no batch is left in
flight (`retry="sync"`, the default), or in new batches (`retry="batch"`, at most
`MAX_BATCH_ROUNDS` batches per request before the synchronous fallback). A batch cancelled outside
the run is reported; its requests wait for the next run, which submits them again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from itertools import groupby
from typing import TYPE_CHECKING

from modelcalls.accounting import max_request_cost
from modelcalls.backends.base import Decoding
from modelcalls.errors import BackendError, ConfigError
from modelcalls.loop import Calls, send_requests

if TYPE_CHECKING:
    from modelcalls.backends.openai_backend import OpenAIBackend

log = logging.getLogger(__name__)

MAX_REQUESTS_PER_FILE = 50_000  # the Batch API's limits on one input file
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
MAX_BATCH_ROUNDS = 3  # with retry="batch": batches one request may go through before it is sent synchronously
TERMINAL = ("completed", "failed", "expired", "cancelled")
RETRIES = ("sync", "batch")
FIND_WINDOW = 100  # recent batches searched for one created just before a kill, before creating another


@dataclass(frozen=True)
class BatchOptions:
    wait: bool = True
    """False: submit (and collect what has finished), then return; the same command collects the rest."""
    poll_interval_s: float = 30.0
    """Seconds between two polls of the batches in flight."""
    retry: str = "sync"
    """How requests a batch did not answer are sent again: "sync" (at the synchronous price) or "batch"."""
    max_requests_per_file: int = MAX_REQUESTS_PER_FILE
    max_bytes_per_file: int = MAX_BYTES_PER_FILE

    def __post_init__(self) -> None:
        if not self.poll_interval_s > 0:
            raise ValueError(f"poll_interval must be a positive number of seconds (got {self.poll_interval_s!r})")
        if self.retry not in RETRIES:
            raise ValueError(f"batch_retry must be sync or batch (got {self.retry!r})")
        if self.max_requests_per_file < 1 or self.max_bytes_per_file < 1:
            raise ValueError("a batch file must hold at least one request")


@dataclass
class BatchStatus:
    """One batch as the last poll saw it, for progress."""

    batch_id: str
    status: str
    total: int
    completed: int
    failed: int


@dataclass
class BatchOutcome:
    """What the batches of one session did."""

    submitted: list[str] = field(default_factory=list)
    """Batches created by this session."""
    collected: list[str] = field(default_factory=list)
    """Batches whose results this session journaled."""
    waiting: list[str] = field(default_factory=list)
    """Batches still in flight when the session returned (without waiting)."""
    cancelled: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    failed_requests: int = 0
    """Requests a collected batch did not answer (error lines, expired or failed batches)."""
    retried_sync: int = 0
    retried_batch: int = 0
    unanswered: list[int] = field(default_factory=list)
    """Requests of cancelled batches, left for the next run."""

    def to_dict(self) -> dict:
        return asdict(self)

    def add(self, other: BatchOutcome) -> None:
        """Count `other` (a later session of the same run, e.g. the next generation wave) in this one;
        what is still waiting or unanswered is `other`'s."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("waiting", "unanswered"):
                setattr(self, f.name, list(theirs))
            else:
                setattr(self, f.name, mine + theirs)

    def pending(self, run_dir) -> str | None:
        """The last word of a session that left batches in flight or requests unanswered, or None."""
        if self.waiting:
            return (f"{len(self.waiting)} batches in flight ({', '.join(self.waiting)}), journaled in {run_dir}: "
                    "run the same command to collect their results")
        if self.unanswered:
            return (f"{len(self.unanswered)} requests of cancelled batches are unanswered: run the same command to "
                    "submit them again")
        return None


def custom_id(request_id: int) -> str:
    """The Batch API's name for a journaled request; `request_id` reads it back."""
    return f"request-{request_id}"


def request_id(name: str) -> int | None:
    prefix, _, number = str(name).partition("-")
    return int(number) if prefix == "request" and number.isdigit() else None


DecodingOf = Decoding | Callable[[dict], Decoding]
"""One decoding for every request, or each request's own."""


def decoding_function(decoding: DecodingOf) -> Callable[[dict], Decoding]:
    return decoding if callable(decoding) else (lambda request: decoding)


def batch_worst_case(calls: Calls, request: dict) -> float:
    """What `request` could cost at batch prices: its prompt and every reply at the token limit."""
    return max_request_cost(request["prompts"], calls.max_tokens, calls.price_of(request).batch, calls.counter)


def input_line(backend: OpenAIBackend, request: dict, decoding: Decoding) -> bytes:
    """One line of a batch input file: the request's synchronous body, addressed to the same route."""
    line = {"custom_id": custom_id(request["id"]), "method": "POST", "url": backend.route,
            "body": backend.request_body(request["prompts"], decoding)}
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


def split_files(lines: list[tuple[int, bytes]], max_requests: int, max_bytes: int) -> list[list[tuple[int, bytes]]]:
    """Consecutive (request id, line) runs within the per-file limits; a line alone past `max_bytes`
    still gets a file of its own (the endpoint then says why it refuses it)."""
    files: list[list[tuple[int, bytes]]] = []
    size = 0
    for rid, line in lines:
        if not files or len(files[-1]) >= max_requests or (files[-1] and size + len(line) > max_bytes):
            files.append([])
            size = 0
        files[-1].append((rid, line))
        size += len(line)
    return files


class _BatchRun:
    """One session of a batched run: re-attach, submit, poll, collect, send again what failed."""

    def __init__(self, calls: Calls, backend: OpenAIBackend, decoding: DecodingOf, options: BatchOptions,
                 on_response, progress):
        self.calls, self.journal, self.state = calls, calls.journal, calls.journal.state
        self.backend, self.decoding_of, self.options = backend, decoding_function(decoding), options
        self.client = backend.batch_client()
        self.on_response, self.progress = on_response, progress
        self.outcome = BatchOutcome()
        self.started = time.monotonic()

    # --- what the journal says ---------------------------------------------------------------

    def answered(self) -> set[int]:
        return {r["id"] for r in self.state.responses}

    def open_batches(self) -> list[str]:
        return [b for b in self.state.batches if b not in self.state.batch_ends]

    def rounds(self) -> Counter:
        """For each request, the batches that ended without answering it (cancelled ones aside)."""
        return Counter(int(k) for end in self.state.batch_ends.values() if end["status"] != "cancelled"
                       for k in end.get("failed", {}))

    def sort(self, requests: list[dict]) -> tuple[list[dict], list[dict]]:
        """(requests to submit in a batch, requests a batch failed to answer) among those not answered
        and not in flight."""
        answered, waiting = self.answered(), {i for b in self.open_batches() for i in self.state.batches[b]["request_ids"]}
        submit, retry = [], []
        failures = self.rounds()
        for r in requests:
            if r["id"] in answered or r["id"] in waiting:
                continue
            rounds = failures[r["id"]]
            if rounds == 0 or (self.options.retry == "batch" and rounds < MAX_BATCH_ROUNDS):
                submit.append(r)
            else:
                retry.append(r)
        return submit, retry

    # --- submitting ----------------------------------------------------------------------------

    def affordable(self, requests: list[dict]) -> list[dict]:
        """The longest prefix of `requests` whose worst case at batch prices, with what is spent and
        what the batches in flight could still cost, stays within --max-cost."""
        calls = self.calls
        if calls.max_cost is None:
            return requests
        answered = self.answered()
        committed = calls.usage.dollars + sum(batch_worst_case(calls, self.state.requests[i])
                                              for b in self.open_batches()
                                              for i in self.state.batches[b]["request_ids"] if i not in answered)
        for n, request in enumerate(requests):
            committed += batch_worst_case(calls, request)
            if committed > calls.max_cost:
                calls.stopped_by = "max_cost"
                return requests[:n]
        return requests

    async def submit(self, requests: list[dict]) -> None:
        """Journal, write, upload and create batches for `requests` (those --max-cost allows)."""
        requests = self.affordable(requests)
        for request in requests:
            if request["id"] not in self.state.requests:
                self.journal.write("request", **request)
        lines = [(r["id"], input_line(self.backend, r, self.decoding_of(r))) for r in requests]
        for part in split_files(lines, self.options.max_requests_per_file, self.options.max_bytes_per_file):
            data = b"".join(line for _, line in part)
            with self.api_errors("upload a batch file"):
                uploaded = await self.client.files.create(file=("requests.jsonl", data, "application/jsonl"),
                                                          purpose="batch")
            self.journal.write("batch_file", file_id=uploaded.id, request_ids=[rid for rid, _ in part], bytes=len(data))
            await self.create(self.state.batch_files[uploaded.id], fresh=True)

    async def create(self, file: dict, *, fresh: bool = False) -> None:
        """The batch of an uploaded file: unless the file is `fresh`, the one already made from it (a
        kill came between its creation and the journal line), else a new one. Journaled before
        anything waits on it."""
        with self.api_errors("find or create a batch"):
            batch = None if fresh else await self.find(file["file_id"])
            if batch is None:
                batch = await self.create_once(file["file_id"])
                self.outcome.submitted.append(batch.id)
        self.journal.write("batch", batch_id=batch.id, file_id=file["file_id"], request_ids=file["request_ids"],
                           endpoint=self.backend.route)

    async def create_once(self, file_id: str):
        """POST /batches without the client's retries: a retry after a lost answer would create a
        second batch (the endpoint takes no idempotency key), so the batch is looked for instead."""
        import openai

        try:
            return await self.client.with_options(max_retries=0).batches.create(
                input_file_id=file_id, endpoint=self.backend.route, completion_window="24h")
        except (openai.APIConnectionError, openai.InternalServerError):
            batch = await self.find(file_id)
            if batch is None:
                raise
            return batch

    async def find(self, file_id: str):
        page = await self.client.batches.list(limit=FIND_WINDOW)
        return next((b for b in page.data if b.input_file_id == file_id), None)

    async def attach(self) -> None:
        """Files uploaded whose batch the journal does not name get one (found or created)."""
        batched = {b["file_id"] for b in self.state.batches.values()}
        answered = self.answered()
        for file in list(self.state.batch_files.values()):
            if file["file_id"] not in batched and any(i not in answered for i in file["request_ids"]):
                await self.create(file)

    # --- waiting and collecting ----------------------------------------------------------------

    async def poll(self) -> list:
        """Every batch in flight, retrieved once; the finished ones are collected."""
        batches = []
        for batch_id in self.open_batches():
            with self.api_errors("poll a batch"):
                batches.append(await self.client.batches.retrieve(batch_id))
        if self.progress is not None:
            self.progress([status_of(b) for b in batches], time.monotonic() - self.started)
        for batch in batches:
            if batch.status in TERMINAL:
                await self.collect(batch)
        return [b.id for b in batches if b.status not in TERMINAL]

    async def collect(self, batch) -> None:
        """Journal a finished batch's results as responses, in request order (so that what reads them in
        journal order, like generation's sieve, does not depend on how the files list them), then its
        end with the requests it did not answer."""
        mine = set(self.state.batches[batch.id]["request_ids"])
        answered = self.answered()  # journaled before a kill: paid once, kept once
        failed: dict[int, str] = {}
        results: list[tuple[int, dict]] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            with self.api_errors("download a batch's results"):
                text = (await self.client.files.content(file_id)).text
            for number, line in enumerate(text.splitlines(), start=1):
                try:
                    result = json.loads(line) if line.strip() else None
                except json.JSONDecodeError:
                    log.warning("line %d of %s (batch %s) is not JSON: its request counts as unanswered",
                                number, file_id, batch.id)
                    continue
                rid = request_id(result.get("custom_id")) if isinstance(result, dict) else None
                if rid in mine:
                    results.append((rid, result))
        for rid, result in sorted(results, key=lambda r: r[0]):  # stable: an output line before an error line
            if rid not in answered:
                reason = self.take(result, rid, batch)
                if reason is None:
                    answered.add(rid)
                    failed.pop(rid, None)
                else:
                    failed[rid] = reason
        why = {"expired": "the batch expired", "cancelled": "the batch was cancelled",
               "failed": f"the batch failed: {errors_of(batch)}"}.get(batch.status, "no result in the batch's files")
        for rid in mine - answered - failed.keys():
            failed[rid] = why
        self.journal.write("batch_end", batch_id=batch.id, status=batch.status, failed={str(k): v for k, v in failed.items()},
                           request_counts=counts_of(batch))
        self.outcome.collected.append(batch.id)
        if batch.status == "cancelled":
            self.outcome.cancelled.append(batch.id)
            self.outcome.unanswered += sorted(failed)
            log.warning("batch %s was cancelled: %d of its requests are unanswered; run the same command to "
                        "submit them again", batch.id, len(failed))
        else:
            self.outcome.failed_requests += len(failed)
            if batch.status == "expired":
                self.outcome.expired.append(batch.id)

    def take(self, line: dict, rid: int, batch) -> str | None:
        """Journal one result line of request `rid` as its response; or the reason it holds none."""
        request = self.state.requests[rid]
        reply = line.get("response") if isinstance(line.get("response"), dict) else {}
        if reply.get("status_code") != 200:
            body = reply.get("body") if isinstance(reply.get("body"), dict) else {}
            error = line.get("error") or body.get("error") or {}
            error = error if isinstance(error, dict) else {"message": str(error)}
            return str(error.get("message") or error.get("code") or f"status {reply.get('status_code')}")[:300]
        from modelcalls.backends.openai_backend import MalformedReply

        try:
            parsed = self.backend.parse_reply(reply.get("body"), request["prompts"])
        except MalformedReply as e:
            return str(e)
        waited = (batch.completed_at or batch.expired_at or batch.cancelled_at or time.time()) - batch.created_at
        response = {"id": rid, "latency_s": round(max(0.0, waited), 3), "attempts": 1, "usage": parsed.usage,
                    "completions": [{"text": c.text, "finish_reason": c.finish_reason} for c in parsed.completions],
                    "batch_id": batch.id}
        self.journal.write("response", **response)
        self.calls.usage.add(response, request["prompts"], self.calls.price_of(request), self.calls.counter)
        if self.on_response is not None:
            self.on_response(request, response)
        return None

    # --- the session -----------------------------------------------------------------------------

    async def run(self, requests: list[dict]) -> BatchOutcome:
        """Re-attach, submit, then poll until no batch is in flight (or once, without waiting); send
        again, as the options say, what the batches did not answer."""
        await self.attach()
        submit, _ = self.sort(requests)
        await self.submit(submit)
        while True:
            waiting = await self.poll()
            submit, retry = self.sort(requests)
            cancelled = set(self.outcome.unanswered)
            submit = [r for r in submit if r["id"] not in cancelled]
            if submit and self.calls.stopped_by is None:
                self.outcome.retried_batch += len(submit)
                await self.submit(submit)
                waiting = self.open_batches()
            if not waiting:
                if retry:
                    self.outcome.retried_sync += len(retry)
                    await self.send_sync(retry)
                return self.outcome
            if not self.options.wait:
                self.outcome.waiting = waiting
                return self.outcome
            await asyncio.sleep(self.options.poll_interval_s)

    async def send_sync(self, requests: list[dict]) -> None:
        """Send `requests` synchronously, consecutive ones with the same decoding together."""
        for decoding, group in groupby(requests, key=self.decoding_of):
            await send_requests(self.calls, list(group), self.backend, decoding, on_response=self.on_response)

    @contextmanager
    def api_errors(self, doing: str):
        """A failed files or batches call as one line saying what could not be done."""
        import openai

        host = self.backend.endpoint_host
        try:
            yield
        except openai.NotFoundError as e:
            raise ConfigError(f"could not {doing} at {host} (404: {_message(e)}): does this endpoint have a "
                              "Batch API? Run without --batch") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
            raise BackendError(f"{host} refused the API key ({e.status_code}) to {doing}: set a valid "
                               "OPENAI_API_KEY or pass --api-key") from None
        except openai.OpenAIError as e:
            raise BackendError(f"could not {doing} at {host}: {_message(e)}; every batch submitted is in the "
                               "journal: run the same command to re-attach") from None


def status_of(batch) -> BatchStatus:
    counts = counts_of(batch)
    return BatchStatus(batch.id, batch.status, counts["total"], counts["completed"], counts["failed"])


def counts_of(batch) -> dict:
    c = batch.request_counts
    return {"total": getattr(c, "total", 0) or 0, "completed": getattr(c, "completed", 0) or 0,
            "failed": getattr(c, "failed", 0) or 0}


def errors_of(batch) -> str:
    errors = getattr(batch.errors, "data", None) or []
    return "; ".join(str(e.message or e.code) for e in errors)[:300] or "no reason given"


def _message(error: Exception) -> str:
    from records.redact import redact_text

    return redact_text(str(getattr(error, "message", None) or error))[:300]


async def send_batched(calls: Calls, requests: list[dict], backend, decoding: DecodingOf, options: BatchOptions, *,
                       on_response: Callable[[dict, dict], None] | None = None,
                       progress: Callable[[list[BatchStatus], float], None] | None = None) -> BatchOutcome:
    """`requests` (journaled with `calls`) through the Batch API, each with `decoding` (one for all, or a
    function of the request); the journal stays open. The OpenAI client is imported here, not when the
    module is: every command imports this module, few send batches."""
    from modelcalls.backends.openai_backend import OpenAIBackend

    if not isinstance(backend, OpenAIBackend):
        raise ConfigError("--batch needs an OpenAI-compatible endpoint with a Batch API (--base-url), not a "
                          "model run in-process")
    run = _BatchRun(calls, backend, decoding, options, on_response, progress)
    try:
        return await run.run(list(requests))
    finally:
        await run.client.close()


async def run_batched(calls: Calls, requests: list[dict], backend, decoding: DecodingOf, options: BatchOptions, *,
                      on_response: Callable[[dict, dict], None] | None = None,
                      progress: Callable[[list[BatchStatus], float], None] | None = None) -> BatchOutcome:
    """`send_batched` for a fixed list, as `loop.run_requests` is for synchronous requests: the
    journal is closed on every exit (batches in flight stay in it, for the next run)."""
    try:
        return await send_batched(calls, requests, backend, decoding, options, on_response=on_response,
                                  progress=progress)
    finally:
        await calls.drain()
        calls.journal.close()
