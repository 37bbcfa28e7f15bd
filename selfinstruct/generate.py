"""Run a generation: issue requests concurrently, journal every response, sieve candidates, stop at N.

    result = asyncio.run(generate(cfg, backend, run_dir="runs/r1"))

Resuming is running it again on the same run directory: journaled responses are re-sieved (no
request is sent for them), requests that never got a response are sent again, and new ones are
issued until N records are kept. The request layer (`modelcalls.loop.Calls`) journals, limits,
budgets and drains; this loop decides what to ask next (a method's driver) and sieves the replies.

With `batch` options the requests go through the endpoint's Batch API in waves (`run_waves`): a
batch cannot see its own results, so each wave holds the requests the driver gives while the wave
counts as in flight (sized by the yield measured so far, or --expected-yield before any), its
results are journaled in request order and sieved in journal order exactly as synchronous replies
are, and the next wave is sized once the sieve has decided this one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from records.files import write_records
from records.redact import redact
from records.timestamps import iso_utc
from records.schema import RECORD_FIELDS
from modelcalls.accounting import Usage
from modelcalls.backends.base import Backend, Decoding
from modelcalls.batch import BatchOptions, BatchOutcome, batch_worst_case, send_batched
from modelcalls.journal import JournalState, open_run
from modelcalls.loop import Calls
from selfinstruct.config import GenerateConfig
from selfinstruct.errors import ConfigError, SelfInstructError
from selfinstruct.methods import driver_for
from selfinstruct.payloads import stops_for
from selfinstruct.resieve import ANSWERING, load_run_inputs, resieve, sieve_options
from selfinstruct.sieve import SieveStats, annotate_nearest
from selfinstruct.sieve_worker import SieveWorker
from selfinstruct.staged import stage_max_tokens, stage_stops

log = logging.getLogger(__name__)

# What must match for a run directory to be resumed: mixing models or prompts would blur lineage.
# How the requests are made: a resumed run that asked differently would record settings it did not
# use for the records made before (journals that predate a key are compared by their journaled config).
REQUEST_SETTINGS = ("api", "temperature", "top_p", "max_tokens", "instance_temperature", "num_tasks_per_prompt",
                    "num_prompt_instructions", "machine_examples", "request_batch_size")
RESUME_KEYS = ("model", "prompt_sha256", "seeds_sha256", "seed", "method", "response_model", *REQUEST_SETTINGS)
RESUME_DEFAULTS = {"method": "alpaca"}  # journals written before the key existed
MAX_BARREN_RESPONSES = 20
WAVE_REQUESTS_PER_RECORD = 4  # a wave holds at most this many requests per record still wanted


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
    batch: BatchOutcome | None = None
    """With --batch: what the batches of this session did (their requests still in flight, if any)."""


class Progress:
    """What the loop reports; the CLI passes a live bar, the library a no-op."""

    def update(self, *, kept: int, target: int, in_flight: int, requests: int, dollars: float) -> None:
        pass


async def generate(cfg: GenerateConfig, backend: Backend, *, run_dir: str | Path, progress: Progress | None = None,
                   salvage: bool = False, response_backend: Backend | None = None, batch: BatchOptions | None = None,
                   batch_progress=None) -> RunResult:
    """Run (or resume) a generation. `response_backend`, when given, answers the instructions
    (self-instruct's instance stage); `backend` writes them. With `batch`, the requests go through
    the endpoint's Batch API in waves (`batch_progress` as in `modelcalls.batch.send_batched`)."""
    if batch is not None and response_backend is not None:
        raise ConfigError("--batch with a second model (--response-model, --response-base-url) is not supported: "
                          "run without --batch, or without the second model")
    return await _Run(cfg, backend, run_dir, progress or Progress(), salvage, response_backend, batch,
                      batch_progress).run()


class _Run:
    """One generation while it runs: the requests in flight, the responses waiting for the sieve or
    being sieved, and the counters that stop it. Each method is one step of `run()`'s loop."""

    sieve: SieveWorker  # started by run()
    calls: Calls  # the requests in flight, the budget and the usage (what the journal already paid, then more)

    def __init__(self, cfg: GenerateConfig, backend: Backend, run_dir: str | Path, progress: Progress,
                 salvage: bool, response_backend: Backend | None, batching: BatchOptions | None = None,
                 batch_progress=None):
        self.cfg, self.backend, self.response_backend, self.progress = cfg, backend, response_backend, progress
        self.batching, self.batch_progress = batching, batch_progress  # with --batch: the requests go out in waves
        self.run_dir = run_dir
        self.inputs = inputs = load_run_inputs(cfg)
        identity = {"model": cfg.model, "prompt_sha256": inputs.template.sha256, "seeds_sha256": inputs.seeds.sha256,
                    "seed": cfg.seed, "method": cfg.method, "response_model": cfg.response_model,
                    **{k: getattr(cfg, k) for k in REQUEST_SETTINGS}}
        self.journal = open_run(run_dir, identity, backend, keys=RESUME_KEYS, defaults=RESUME_DEFAULTS,
                                salvage=salvage, kind="a run",
                                advice="run with the journal's settings to continue it, or give a new --run-dir "
                                       "to start another run (--backend replay re-sieves its responses)",
                                config=cfg.to_dict())
        # a resumed run's window opens with its first session
        self.started = iso_utc(self.journal.state.starts[0]["time"])
        self.answerer = response_backend or backend
        self.driver = driver_for(cfg, inputs, self.journal.state)
        self.stopped_by: str | None = None
        self.sieving: asyncio.Task | None = None
        self.pending = self.journal.state.unanswered  # journaled requests that never got a response
        self.next_id = self.journal.state.next_request_id
        self.queued: list[tuple[dict, dict]] = []  # journaled responses waiting for the sieve, in arrival order
        self.batch: list[tuple[dict, dict]] = []  # the responses the sieve is deciding now
        self.barren = 0  # consecutive responses that gave no parseable task: a model ignoring the format
        self.idle = 0  # consecutive responses that kept nothing new: a model repeating itself
        self.batched = BatchOutcome()  # with --batch: what the waves' batches did

    async def run(self) -> RunResult:
        """Issue, wait, sieve, until N records are kept or the run is stopped; clean up on every exit."""
        seed_instructions = [t.instruction for t in self.inputs.seeds.tasks]
        self.sieve = await SieveWorker.start(seed_instructions, **sieve_options(self.cfg))
        journaled = resieve(self.cfg, self.journal.state, self.inputs, decide=False,
                            separate_responder=self.response_backend is not None)
        # Over the network, latency near --timeout means the server queues requests: send fewer at once.
        self.calls = Calls(self.journal, concurrency=self.cfg.concurrency, max_tokens=self.cfg.max_tokens,
                           price_of=self.cost_of, counter=self.inputs.counter, max_cost=self.cfg.max_cost,
                           adaptive_timeout_s=self.cfg.timeout_s if self.backend.name == "openai" else None,
                           usage=journaled.usage)
        try:
            await self.sieve.admit(journaled.received)  # resume: re-sieve what was already paid for
            while self.batching is None:
                self.fill()
                self.report()
                self.start_sieving()
                if not self.calls.in_flight and self.sieving is None:
                    break
                await self.take_next()
                self.check_barren()
            if self.batching is not None:
                await self.run_waves()
        except BaseException as e:
            self.stopped_by = "interrupted" if isinstance(e, (KeyboardInterrupt, asyncio.CancelledError)) else "error"
            raise
        finally:
            result = await self.finish()
        return result

    def fill(self) -> None:
        """Issue requests up to the concurrency limit, until the driver has none to give or the next
        could take the run past --max-cost."""
        cfg = self.cfg
        unsieved = sum(len(req["prompts"]) for req, _ in self.queued + self.batch)
        # With machine examples, a new prompt waits until every response received has been
        # sieved, so it samples from all records kept so far: prompts do not depend on timing.
        sieve_busy = cfg.machine_examples > 0 and bool(self.queued or self.batch) and not self.pending
        calls = self.calls
        while calls.room and self.stopped_by is None and not sieve_busy:
            request = self.driver.next(self.next_id, self.sieve, calls.in_flight, unsieved, self.pending)
            if request is None:
                break
            reserve = calls.reserve(request)
            if reserve is None:
                self.stopped_by = calls.stopped_by
                break
            self.send(request, reserve)

    def send(self, request: dict, reserve: float) -> None:
        """Start a request: a new one is journaled by the request layer; one sent again is there already."""
        self.take(request)
        target = self.answerer if request.get("stage") in ANSWERING else self.backend
        self.calls.send(request, target, decoding_for(self.cfg, request), reserve)

    def take(self, request: dict) -> None:
        """The driver's `request` is going out: one journaled before leaves `pending`, a new one is issued."""
        if self.pending and request is self.pending[0]:
            self.pending.pop(0)
        else:
            self.driver.issued(request)
            self.next_id += 1

    # --- waves (--batch) -------------------------------------------------------------------------

    async def run_waves(self) -> None:
        """Gather a wave, send it as batches, sieve its results, until N records are kept or the run
        stops (the budget, a stall, or batches left in flight by --no-wait)."""
        while self.stopped_by is None:
            wave = self.gather()
            self.report()
            if not wave:
                return
            outcome = await send_batched(self.calls, wave, self.backend, self.decoding_of, self.batching,
                                         on_response=self.queue, progress=self.batch_progress)
            self.batched.add(outcome)
            self.start_sieving()  # nothing else is in flight: the whole wave, in journal order
            if self.sieving is not None:
                self.on_sieved(await self.sieving)
            self.check_barren()
            self.report()
            if outcome.waiting or outcome.unanswered:  # collected by the same command later
                self.stopped_by = "batch_pending"
            self.stopped_by = self.stopped_by or self.calls.stopped_by

    def gather(self) -> list[dict]:
        """The next wave: what the driver gives while the wave counts as in flight, up to what
        --max-cost allows at batch prices (then the run stops after this wave)."""
        wave: dict[int, tuple[dict, float]] = {}
        committed = self.calls.usage.dollars
        most = max(1, WAVE_REQUESTS_PER_RECORD * (self.cfg.num_instructions - len(self.sieve.kept)))
        while self.stopped_by is None and len(wave) < most:
            request = self.driver.next(self.next_id, self.sieve, wave, 0, self.pending)
            if request is None:
                break
            if self.cfg.max_cost is not None:
                cost = batch_worst_case(self.calls, request)
                if committed + cost > self.cfg.max_cost:
                    self.stopped_by = "max_cost"
                    break
                committed += cost
            self.take(request)
            wave[request["id"]] = (request, 0.0)
        return [request for request, _ in wave.values()]

    def decoding_of(self, request: dict) -> Decoding:
        return decoding_for(self.cfg, request)

    def report(self) -> None:
        usage = self.calls.usage
        self.progress.update(kept=len(self.sieve.kept), target=self.cfg.num_instructions,
                             in_flight=len(self.calls.in_flight), requests=usage.requests, dollars=usage.dollars)

    def start_sieving(self) -> None:
        """Hand the queued responses to the sieve, unless it is still deciding the last batch."""
        if self.sieving is None and self.queued:
            # The sieve runs in a child process, one batch at a time in arrival order, while
            # requests keep going out and coming back.
            self.batch, self.queued = self.queued, []
            self.sieving = asyncio.create_task(self.sieve.admit(self.batch))

    async def take_next(self) -> None:
        """Wait for a response or the sieve's decisions, and take in everything that is done."""
        for task in await self.calls.wait(*([self.sieving] if self.sieving else [])):
            if task is self.sieving:
                self.on_sieved(task.result())
            else:
                self.on_response(task)

    def on_sieved(self, outcomes: list[tuple[list, list, int, list]]) -> None:
        """Journal the sieve's decisions on the batch, count barren and idle responses, stop a stalled run."""
        for (request, _), (kept, dropped, parsed, accepted) in zip(self.batch, outcomes):
            self.journal.write("decisions", id=request["id"], kept=[r["instruction"] for r in kept],
                               dropped=[{"instruction": r["instruction"], "reason": r["drop_reason"],
                                         "collided_with": r["collided_with"]} for r in dropped],
                               **({"accepted": [t["instruction"] for t in accepted]} if accepted else {}))
            self.barren = 0 if parsed else self.barren + 1
            if request.get("stage") in (None, *ANSWERING) and not request.get("answered_elsewhere"):
                self.idle = 0 if kept else self.idle + 1
        self.sieving, self.batch = None, []
        stall = self.cfg.stall_responses
        if stall and self.idle >= stall and self.stopped_by is None:
            self.stopped_by = "stalled"
            log.warning("the last %d responses kept nothing new (see the drop counts); stopping", self.idle)

    def on_response(self, task: asyncio.Task) -> None:
        """Take a response in (the request layer journals and counts it), tell the driver, queue it for the sieve."""
        request, response = self.calls.receive(task)  # a BackendError ends the run; finish() drains the rest
        self.queue(request, response)

    def queue(self, request: dict, response: dict) -> None:
        """A journaled response: tell the driver, queue it for the sieve."""
        self.driver.answered(request, response)
        self.queued.append((request, response))

    def check_barren(self) -> None:
        if self.barren >= max(MAX_BARREN_RESPONSES, 2 * self.cfg.concurrency):
            raise SelfInstructError(
                f"the last {self.barren} responses held no task in the numbered format; the model does not follow "
                f"the prompt (read the replies in {self.journal.path}); try another model, --method self-instruct "
                "or --prompt-file")

    async def finish(self) -> RunResult:
        """On every exit: journal what is still in flight, close the journal, the sieve and the backends,
        and write the run files; returns the run's result (unless draining was interrupted)."""
        try:
            await self.calls.drain()
        finally:
            self.journal.close()
            if self.sieving is not None:
                await asyncio.wait([self.sieving])  # decisions are derived: a rerun recomputes them from the journal
            await self.sieve.close()
            await self.backend.aclose()
            if self.response_backend is not None:
                await self.response_backend.aclose()
            sieve, inputs = self.sieve, self.inputs
            result = RunResult(sieve.kept[: self.cfg.num_instructions], sieve.kept, sieve.dropped, sieve.stats,
                               self.calls.usage, Path(self.run_dir), self.stopped_by,
                               batch=self.batched if self.batching is not None else None)
            result.lineage = build_lineage(self.cfg, self.backend.provider, self.backend.endpoint_host, inputs.seeds,
                                           inputs.template, result, self.started, iso_utc(),
                                           stage_templates=inputs.stage_templates,
                                           response=_describe(self.response_backend))
            try:  # summary.json and dropped.jsonl on every exit; a failure here never hides the run's own error
                write_run_files(result, self.cfg, sieve.seed_instructions)
            except OSError as e:
                log.warning("could not write the run files in %s: %s", self.run_dir, e)
        return result

    def cost_of(self, request: dict):
        return self.inputs.price_of(request, separate_responder=self.response_backend is not None)


def decoding_for(cfg: GenerateConfig, request: dict) -> Decoding:
    stage = request.get("stage")
    if stage is None:  # Alpaca's batched prompts
        return Decoding(cfg.temperature, cfg.top_p, cfg.max_tokens, stops_for(request, cfg.num_tasks_per_prompt), cfg.seed)
    # Self-Instruct sampled new instructions and decoded classifications and instances greedily.
    temperature = {"instructions": cfg.temperature, "classify": 0.0}.get(stage, cfg.instance_temperature)
    return Decoding(temperature, cfg.top_p, stage_max_tokens(stage, cfg.max_tokens),
                    stage_stops(request, cfg.num_tasks_per_prompt, raw=cfg.api == "completions"), cfg.seed)


def _describe(backend: Backend | None) -> dict | None:
    return None if backend is None else {"model": backend.model, "provider": backend.provider,
                                         "endpoint_host": backend.endpoint_host}


def build_lineage(cfg, provider: str, endpoint_host: str, seeds, template, result: RunResult, started: str,
                  finished: str, *, stage_templates: dict | None = None, response: dict | None = None,
                  replayed_from: str | None = None) -> dict:
    """The generation's provenance, in the shape the registry stores (never a key, no credentials in URLs)."""
    from records.contract import ABSENT
    from records.lineage import Generator, Lineage, Prompt, Seeds

    stages = {name: {"sha256": t.sha256, "path": t.path} for name, t in stage_templates.items()} if stage_templates else ABSENT
    decoding = {"temperature": cfg.temperature, "top_p": cfg.top_p, "max_tokens": cfg.max_tokens}
    answerer = response or ({"model": cfg.response_model} if cfg.response_model else ABSENT)
    # candidates = passed + the drops (+ awaiting_instance): every candidate is accounted for once
    counts = {"requests": result.stats.requests, "prompts": result.stats.prompts,
              "candidates": result.stats.candidates, "passed": len(result.kept), "kept": len(result.records)}
    if cfg.method == "self-instruct" or result.stats.tasks:
        counts |= {"instruction_lists": result.stats.lists, "tasks_accepted": result.stats.tasks,
                   "instances": result.stats.instances, "awaiting_instance": result.stats.awaiting_instance}
    lineage = Lineage(
        operation="generate",
        method=cfg.method,
        parameters={k: v for k, v in cfg.to_dict().items() if k not in ("pricing",)},
        counts=counts,
        drops=dict(result.stats.drops),
        generator=Generator(model=cfg.model, provider=provider, endpoint_host=endpoint_host, api=cfg.api,
                            decoding=decoding, response=answerer),
        prompt=Prompt(sha256=template.sha256, path=template.path, stages=stages),
        in_context={"seed_examples": cfg.num_prompt_instructions, "machine_examples": cfg.machine_examples},
        seeds=Seeds(name=seeds.name, sha256=seeds.sha256, count=len(seeds.tasks), path=seeds.path,
                    licence=cfg.seeds_licence or seeds.licence),
        random_seed=cfg.seed,
        usage=result.usage.to_dict(),
        time_window={"started": started, "finished": finished},
        run_dir=str(Path(result.run_dir).resolve()),  # so the web app finds it from any folder
        filters={"profile": cfg.filters, "rouge_threshold": cfg.rouge_threshold,
                 "rouge_tokenizer": cfg.rouge_tokenizer, "minhash_threshold": cfg.minhash_threshold},
        replayed_from=replayed_from if replayed_from is not None else ABSENT,
    )
    return redact(lineage.to_dict())


def write_run_files(result: RunResult, cfg: GenerateConfig, seed_instructions: list[str]) -> None:
    """kept.jsonl (with nearest instruction and score), dropped.jsonl (every rejected candidate with its
    rule: the checks, dedup and the parser's `truncated` / `parse_incomplete`), summary.json."""
    from records.files import write_json_atomic
    from selfinstruct.run_folder import run_folder

    folder = run_folder(result.run_dir)
    annotate_nearest(result.kept, seed_instructions, threshold=cfg.rouge_threshold, tokenizer=cfg.rouge_tokenizer)
    extra = ("most_similar", "rouge_l", "request_id", "prompt")
    write_records(folder.kept, result.kept, (*RECORD_FIELDS, *extra))
    write_records(folder.dropped, result.dropped,
                  (*RECORD_FIELDS, "drop_reason", "collided_with", "rouge_l", "request_id", "prompt", "task_id"))
    summary = redact({"config": cfg.to_dict(), "lineage": result.lineage, "stopped_by": result.stopped_by})
    write_json_atomic(folder.summary, summary)


# What a replay takes from the run it re-sieves, unless the caller chose otherwise: how the
# responses were asked for decides how they are read, priced and described.
RECORDED_SETTINGS = ("model", "method", "api", "temperature", "top_p", "max_tokens", "instance_temperature",
                     "num_tasks_per_prompt", "request_batch_size", "num_prompt_instructions", "machine_examples",
                     "response_model", "seed")


# What a replay may change: how responses are read, checked and deduplicated.
REPLAY_SETTINGS = ("filters", "language", "rouge_threshold", "rouge_tokenizer", "minhash_threshold")


def replay_config(cfg: GenerateConfig, recorded: JournalState, given: set[str] | None = None) -> GenerateConfig:
    """`cfg` with the recorded run's generation settings for every field the caller did not choose
    (`given`; by default those that differ from GenerateConfig's defaults)."""
    from selfinstruct.config import given_fields

    given = given_fields(cfg) if given is None else given
    first = recorded.starts[0] if recorded.starts else {}
    config = first.get("config") or {}
    for name in RECORDED_SETTINGS:
        value = config.get(name, first.get(name))
        if name not in given and value is not None:
            setattr(cfg, name, value)
    return cfg


def replay(cfg: GenerateConfig, recorded: JournalState, source_run_dir: str | Path, *,
           audit_dir: str | Path, everything: bool = False) -> RunResult:
    """Re-sieve the responses `recorded` in `source_run_dir` with `cfg`'s filters and dedup; sends nothing.

    Keeps up to `cfg.num_instructions` records, or with `everything` every one that passes (and
    `cfg.num_instructions` becomes that count); kept.jsonl in `audit_dir` holds every one that passed.
    """
    replayed_at = iso_utc()
    inputs = load_run_inputs(cfg, offline=True)
    seeds, template, stage_templates = inputs.seeds, inputs.template, inputs.stage_templates
    resieved = resieve(cfg, recorded, inputs)  # in arrival order, as the run decided them
    sieve, usage = resieved.sieve, resieved.usage
    first = recorded.starts[0] if recorded.starts else {}
    if everything:
        cfg.num_instructions = max(1, len(sieve.kept))
    result = RunResult(sieve.kept[: cfg.num_instructions], sieve.kept, sieve.dropped, sieve.stats, usage,
                       Path(audit_dir))
    # The data was made when the recorded run asked for it: its window, not the replay's.
    times = [e["time"] for e in (*recorded.starts, *recorded.responses) if isinstance(e.get("time"), (int, float))]
    started, finished = (iso_utc(min(times)), iso_utc(max(times))) if times else (replayed_at, replayed_at)
    result.lineage = build_lineage(cfg, first.get("provider", "replay"), first.get("endpoint_host", "unknown"),
                                   seeds, template, result, started, finished, stage_templates=stage_templates,
                                   replayed_from=str(Path(source_run_dir).resolve()))
    recorded_config = first.get("config") or {}
    changed = {k: {"recorded": recorded_config.get(k), "replay": getattr(cfg, k)} for k in REPLAY_SETTINGS
               if k in recorded_config and recorded_config.get(k) != getattr(cfg, k)}
    result.lineage["replay"] = {"at": replayed_at, "changed": changed}
    Path(audit_dir).mkdir(parents=True, exist_ok=True)
    write_run_files(result, cfg, sieve.seed_instructions)
    return result
