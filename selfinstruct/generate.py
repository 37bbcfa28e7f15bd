"""Run a generation: issue requests concurrently, journal every response, sieve candidates, stop at N.

    result = asyncio.run(generate(cfg, backend, run_dir="runs/r1"))

Resuming is running it again on the same run directory: journaled responses are re-sieved (no
request is sent for them), requests that never got a response are sent again, and new ones are
issued until N records are kept. In-flight requests are awaited, never abandoned, so a response
that was paid for always reaches the journal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from selfinstruct.accounting import Usage, max_request_cost
from selfinstruct.backends.base import Backend, Decoding
from selfinstruct.config import GenerateConfig
from selfinstruct.errors import SelfInstructError
from selfinstruct.io import write_records
from selfinstruct.journal import Journal, JournalState
from selfinstruct.pricing import load_pricing, price_for
from selfinstruct.prompts import load_template
from selfinstruct.redact import redact
from selfinstruct.requests import make_request, stops_for
from selfinstruct.seeds import load_seeds
from selfinstruct.sieve import Sieve, SieveStats, annotate_nearest
from selfinstruct.sieve_worker import SieveWorker
from selfinstruct.tokens import get_counter

log = logging.getLogger(__name__)

# What must match for a run directory to be resumed: mixing models or prompts would blur lineage.
RESUME_KEYS = ("model", "prompt_sha256", "seeds_sha256", "seed")
MAX_BARREN_RESPONSES = 20


@dataclass
class RunResult:
    records: list[dict]
    kept: list[dict]
    dropped: list[dict]
    stats: SieveStats
    usage: Usage
    run_dir: Path
    stopped_by: str | None = None
    """"max_cost" when the budget stopped the run short of N records, "stalled" when responses
    stopped yielding new records (--stall-responses)."""
    lineage: dict = field(default_factory=dict)


class Progress:
    """What the loop reports; the CLI passes a live bar, the library a no-op."""

    def update(self, *, kept: int, target: int, in_flight: int, requests: int, dollars: float) -> None:
        pass


async def generate(cfg: GenerateConfig, backend: Backend, *, run_dir: str | Path, progress: Progress | None = None,
                   salvage: bool = False) -> RunResult:
    seeds, template = load_seeds(cfg.seeds), load_template(cfg.prompt_file)
    price = price_for(cfg.model, load_pricing(cfg.pricing))
    counter = get_counter(cfg.model)
    progress = progress or Progress()
    journal = Journal(run_dir, salvage=salvage)
    identity = {"model": cfg.model, "prompt_sha256": template.sha256, "seeds_sha256": seeds.sha256, "seed": cfg.seed}
    _check_resumable(journal.state, identity, journal.path)
    journal.write("start", **identity, config=cfg.to_dict(), backend=backend.name, provider=backend.provider,
                  endpoint_host=backend.endpoint_host, api=cfg.api)
    started = _iso(journal.state.starts[0]["time"])  # a resumed run's window opens with its first session
    sieve = await SieveWorker.start([t.instruction for t in seeds.tasks], **sieve_options(cfg))
    usage = Usage()
    received = [(journal.state.requests[r["id"]], r) for r in journal.state.responses]
    await sieve.admit(received)  # resume: re-sieve what was already paid for
    for request, response in received:
        usage.add(response, request["prompts"], price, counter)

    pending = journal.state.unanswered
    next_id = journal.state.next_request_id
    in_flight: dict[asyncio.Task, tuple[dict, float]] = {}
    queued: list[tuple[dict, dict]] = []  # journaled responses waiting for the sieve, in arrival order
    batch: list[tuple[dict, dict]] = []  # the responses the sieve is deciding now
    sieving: asyncio.Task | None = None
    stopped_by = None
    barren = 0  # consecutive responses that gave no parseable task: a model ignoring the format
    idle = 0  # consecutive responses that kept nothing new: a model repeating itself
    try:
        while True:
            unsieved = sum(len(req["prompts"]) for req, _ in queued + batch)
            # With machine examples, a new prompt waits until every response received has been
            # sieved, so it samples from all records kept so far: prompts do not depend on timing.
            sieve_busy = cfg.machine_examples > 0 and bool(queued or batch) and not pending
            while len(in_flight) < cfg.concurrency and stopped_by is None and not sieve_busy:
                if _enough_in_flight(cfg, sieve, in_flight, unsieved):
                    break
                request = pending[0] if pending else make_request(next_id, cfg, seeds.tasks, template, sieve.kept)
                reserve = max_request_cost(request["prompts"], cfg.max_tokens, price, counter)
                reserved = sum(r for _, r in in_flight.values())
                if cfg.max_cost is not None and usage.dollars + reserved + reserve > cfg.max_cost:
                    stopped_by = "max_cost"
                    break
                if pending:
                    pending.pop(0)
                else:
                    journal.write("request", **request)
                    next_id += 1
                decoding = Decoding(cfg.temperature, cfg.top_p, cfg.max_tokens,
                                    stops_for(request, cfg.num_tasks_per_prompt), cfg.seed)
                in_flight[asyncio.create_task(_timed(backend, request, decoding))] = (request, reserve)
            progress.update(kept=len(sieve.kept), target=cfg.num_instructions, in_flight=len(in_flight),
                            requests=usage.requests, dollars=usage.dollars)
            if sieving is None and queued:
                # The sieve runs in a child process, one batch at a time in arrival order, while
                # requests keep going out and coming back.
                batch, queued = queued, []
                sieving = asyncio.create_task(sieve.admit(batch))
            if not in_flight and sieving is None:
                break
            done, _ = await asyncio.wait([*in_flight, *([sieving] if sieving else [])],
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is sieving:
                    for (request, _), (kept, dropped, parsed) in zip(batch, task.result()):
                        journal.write("decisions", id=request["id"], kept=[r["instruction"] for r in kept],
                                      dropped=[{"instruction": r["instruction"], "reason": r["drop_reason"],
                                                "collided_with": r["collided_with"]} for r in dropped])
                        barren = 0 if parsed else barren + 1
                        idle = 0 if kept else idle + 1
                    sieving, batch = None, []
                    if cfg.stall_responses and idle >= cfg.stall_responses and stopped_by is None:
                        stopped_by = "stalled"
                        log.warning("the last %d responses kept nothing new (see the drop counts); stopping", idle)
                    continue
                request, _ = in_flight.pop(task)
                response = task.result()  # a BackendError ends the run; the finally below drains the rest
                journal.write("response", **response)
                usage.add(response, request["prompts"], price, counter)
                queued.append((request, response))
            if barren >= max(MAX_BARREN_RESPONSES, 2 * cfg.concurrency):
                raise SelfInstructError(
                    f"the last {barren} responses held no task in the numbered format; the model does not follow "
                    f"the prompt (read the replies in {journal.path}); try another model or --prompt-file")
    finally:
        try:
            await _drain(in_flight, journal)
        finally:
            journal.close()
            if sieving is not None:
                await asyncio.wait([sieving])  # decisions are derived: a rerun recomputes them from the journal
            await sieve.close()
            await backend.aclose()
    finished = _iso(time.time())
    result = RunResult(sieve.kept[: cfg.num_instructions], sieve.kept, sieve.dropped, sieve.stats, usage,
                       Path(run_dir), stopped_by)
    result.lineage = build_lineage(cfg, backend.provider, backend.endpoint_host, seeds, template, result,
                                   started, finished)
    write_run_files(result, cfg, sieve.seed_instructions)
    return result


def _iso(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, timezone.utc).isoformat(timespec="seconds")


def sieve_options(cfg: GenerateConfig) -> dict:
    return {"profile": cfg.filters, "language": cfg.language, "rouge_threshold": cfg.rouge_threshold,
            "rouge_tokenizer": cfg.rouge_tokenizer, "minhash_threshold": cfg.minhash_threshold}


def new_sieve(cfg: GenerateConfig, seed_instructions: list[str]) -> Sieve:
    return Sieve(seed_instructions, **sieve_options(cfg))


def _enough_in_flight(cfg: GenerateConfig, sieve, in_flight: dict, unsieved_prompts: int) -> bool:
    """Stop issuing once the prompts in flight and those awaiting the sieve should, at the yield
    seen so far, fill the gap."""
    need = cfg.num_instructions - len(sieve.kept)
    if need <= 0:
        return True
    per_prompt = len(sieve.kept) / sieve.stats.prompts if sieve.stats.prompts else cfg.expected_yield
    expected = per_prompt * (sum(len(req["prompts"]) for req, _ in in_flight.values()) + unsieved_prompts)
    return expected >= need


async def _timed(backend: Backend, request: dict, decoding: Decoding) -> dict:
    t0 = time.perf_counter()
    response = await backend.complete(request["prompts"], decoding)
    record = {"id": request["id"], "latency_s": round(time.perf_counter() - t0, 3), "attempts": response.attempts,
              "usage": response.usage,
              "completions": [{"text": c.text, "finish_reason": c.finish_reason} for c in response.completions]}
    if response.rejected:  # unreadable replies retried before this one: what the server sent, for the record
        record["rejected"] = list(response.rejected)
    return record


async def _drain(in_flight: dict, journal: Journal) -> None:
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
    done, pending = await asyncio.wait(in_flight, timeout=None)
    for task in done:
        if not task.cancelled() and task.exception() is None:
            journal.write("response", **task.result())


def _check_resumable(state: JournalState, identity: dict, path: Path) -> None:
    if not state.starts:
        return
    first = state.starts[0]
    changed = [k for k in RESUME_KEYS if first.get(k) != identity[k]]
    if changed:
        raise SelfInstructError(f"{path} belongs to a run with a different {', '.join(changed)}; "
                                "use a new --run-dir (or --backend replay to re-sieve its responses)")


def build_lineage(cfg, provider: str, endpoint_host: str, seeds, template, result: RunResult, started: str,
                  finished: str) -> dict:
    """The generation's provenance, in the shape the registry stores (never a key, no credentials in URLs)."""
    return redact({
        "operation": "generate",
        "parameters": {k: v for k, v in cfg.to_dict().items() if k not in ("pricing",)},
        "counts": {"requests": result.stats.requests, "prompts": result.stats.prompts,
                   "candidates": result.stats.candidates, "kept": len(result.records)},
        "drops": dict(result.stats.drops),
        "generator": {"model": cfg.model, "provider": provider, "endpoint_host": endpoint_host,
                      "api": cfg.api, "decoding": {"temperature": cfg.temperature, "top_p": cfg.top_p,
                                                   "max_tokens": cfg.max_tokens}},
        "prompt": {"sha256": template.sha256, "path": template.path},
        "in_context": {"seed_examples": cfg.num_prompt_instructions, "machine_examples": cfg.machine_examples},
        "seeds": {"name": seeds.name, "sha256": seeds.sha256, "count": len(seeds.tasks), "path": seeds.path,
                  "licence": cfg.seeds_licence or seeds.licence},
        "random_seed": cfg.seed,
        "usage": result.usage.to_dict(),
        "time_window": {"started": started, "finished": finished},
        "run_dir": str(result.run_dir),
        "filters": {"profile": cfg.filters, "rouge_threshold": cfg.rouge_threshold,
                    "rouge_tokenizer": cfg.rouge_tokenizer, "minhash_threshold": cfg.minhash_threshold},
    })


def write_run_files(result: RunResult, cfg: GenerateConfig, seed_instructions: list[str]) -> None:
    """kept.jsonl (with nearest instruction and score), dropped.jsonl (with reasons), summary.json."""
    annotate_nearest(result.kept, seed_instructions, threshold=cfg.rouge_threshold, tokenizer=cfg.rouge_tokenizer)
    extra = ("most_similar", "rouge_l", "request_id", "prompt")
    write_records(result.run_dir / "kept.jsonl", result.kept, ("instruction", "input", "output", *extra))
    write_records(result.run_dir / "dropped.jsonl", result.dropped,
                  ("instruction", "input", "output", "drop_reason", "collided_with", "rouge_l", "request_id", "prompt"))
    summary = redact({"config": cfg.to_dict(), "lineage": result.lineage, "stopped_by": result.stopped_by})
    (result.run_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def replay(cfg: GenerateConfig, recorded: JournalState, source_run_dir: str | Path, *,
           audit_dir: str | Path, everything: bool = False) -> RunResult:
    """Re-sieve the responses `recorded` in `source_run_dir` with `cfg`'s filters and dedup; sends nothing.

    Keeps up to `cfg.num_instructions` records, or with `everything` every one that passes (and
    `cfg.num_instructions` becomes that count); kept.jsonl in `audit_dir` holds every one that passed.
    """
    seeds, template = load_seeds(cfg.seeds), load_template(cfg.prompt_file)
    price, counter = price_for(cfg.model, load_pricing(cfg.pricing)), get_counter(cfg.model, offline=True)
    sieve, usage = new_sieve(cfg, [t.instruction for t in seeds.tasks]), Usage()
    started = _iso(time.time())
    for response in recorded.responses:  # in arrival order, as the run decided them
        request = recorded.requests[response["id"]]
        sieve.admit_response(request, response)
        usage.add(response, request["prompts"], price, counter)
    first = recorded.starts[0] if recorded.starts else {}
    if everything:
        cfg.num_instructions = max(1, len(sieve.kept))
    result = RunResult(sieve.kept[: cfg.num_instructions], sieve.kept, sieve.dropped, sieve.stats, usage,
                       Path(audit_dir))
    finished = _iso(time.time())
    result.lineage = build_lineage(cfg, first.get("provider", "replay"), first.get("endpoint_host", "unknown"),
                                   seeds, template, result, started, finished)
    result.lineage["replayed_from"] = str(source_run_dir)
    Path(audit_dir).mkdir(parents=True, exist_ok=True)
    write_run_files(result, cfg, sieve.seed_instructions)
    return result
