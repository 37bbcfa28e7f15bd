"""Score every record of a version and keep the scores as a layer of it.

    scorer = JudgeScorer(Endpoint(model="gpt-4o-mini"), api_key=key)
    result = score_version("alpaca@1", scorer, root="./reg")       # layer "judge" of alpaca@1

A score belongs to a record (its content hash) and a scorer's settings: every score already stored
for the same record with the same settings, in any layer of the version, its ancestors or the other
versions of those datasets, is reused, and only the rest is scored (`result.reused` says how many).
A scorer is any object with `name`, `settings` and `score(items, context)`; the judge scorer sends
its requests through the request layer, journaled, so a rerun pays for nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import polars as pl

from curation.judge_scores import EXPECTED_REPLY_TOKENS, Rubric, load_rubric, parse_score
from modelcalls.accounting import journaled_usage
from modelcalls.backends.base import Decoding
from modelcalls.batch import BatchOptions, BatchOutcome, run_batched
from modelcalls.endpoint import Endpoint, build_backend
from modelcalls.journal import JOURNAL, check_resumable, open_run, read_journal
from modelcalls.loop import Calls, run_requests, run_resumable
from modelcalls.pricing import load_pricing, price_for
from modelcalls.tokens import get_counter
from records.redact import endpoint_host, redact
from registry.errors import RegistryError
from registry.layers import check_layer_name, list_layers, record_hashes, reusable_scores, settings_key, write_layer
from registry.versions import as_store, list_versions, open_version, resolve, walk_ancestry

RESUME_KEYS = ("version_hash", "settings_key")


@dataclass(frozen=True)
class Item:
    """One distinct record to score: where it first appears in the version, its hash, its fields."""

    index: int
    record: str
    fields: dict


@dataclass
class Outcome:
    """What a scorer returns: a score (or None) and a reason per record, and what went wrong."""

    scores: dict[str, tuple[float | None, str | None]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # record -> truncated / unparseable / ...
    usage: dict = field(default_factory=dict)
    stopped_by: str | None = None
    """"max_cost", or "batch_pending" when batches are still in flight (`note` says how to collect)."""
    note: str | None = None


@dataclass(frozen=True)
class Context:
    """Where a scorer may keep its work: the version scored and its run folder (for a journal)."""

    version_hash: str
    run_dir: Path
    replay: bool = False
    progress: Callable[[int, int], None] | None = None


class Scorer(Protocol):
    name: str
    """The layer's default name."""
    settings: dict
    """Everything that makes its score of a record what it is (kind, model, prompt, decoding...):
    recorded as the layer's lineage; two layers share scores only when these are equal."""

    def score(self, items: list[Item], context: Context) -> Outcome: ...


@dataclass
class ScoreResult:
    version: str
    layer: str
    manifest: dict | None
    """None when the run stopped short (--max-cost): nothing was written, the journal keeps the work."""
    records: int
    reused: int
    scored: int
    missing: dict[str, int]
    """Missing scores by problem (truncated, unparseable, out_of_range, not_in_journal)."""
    usage: dict
    stopped_by: str | None
    run_dir: str | None
    note: str | None = None


def score_version(ref: str, scorer: Scorer, *, layer: str | None = None, root=None, run_dir: str | Path | None = None,
                  replay: bool = False, progress=None) -> ScoreResult:
    """Score every distinct record of `ref` that has no reusable score, and write the layer."""
    store = as_store(root)
    version = resolve(ref, root=store)
    name = check_layer_name(layer or scorer.name)
    if name in list_layers(version, root=store):
        raise RegistryError(f"{version.ref} already has a layer named {name!r}; layers are written once: "
                            "choose another name with --as")
    items = distinct_items(open_version(version, root=store))
    key = settings_key(scorer.settings)
    reused = reusable_scores(related_versions(version, store), key, root=store)
    todo = [item for item in items if item.record not in reused]
    run_dir = Path(run_dir) if run_dir else default_run_dir(store, version, name)
    outcome = scorer.score(todo, Context(version.hash, run_dir, replay, progress)) if todo else Outcome()
    missing: dict[str, int] = {}
    for problem in outcome.problems.values():
        missing[problem] = missing.get(problem, 0) + 1
    result = ScoreResult(version.ref, name, None, len(items), len(items) - len(todo),
                         sum(1 for s, _ in outcome.scores.values() if s is not None), missing, outcome.usage,
                         outcome.stopped_by, str(run_dir) if todo else None, outcome.note)
    if outcome.stopped_by:
        return result
    rows = [(i.record, *(reused.get(i.record) or outcome.scores.get(i.record) or (None, None))) for i in items]
    frame = pl.DataFrame(rows, schema={"record": pl.String, "score": pl.Float64, "reason": pl.String}, orient="row")
    result.manifest = write_layer(version, name, frame, scorer=redact(scorer.settings), usage=outcome.usage,
                                  reused=result.reused, root=store)
    return result


def distinct_items(frame: pl.DataFrame) -> list[Item]:
    """The version's distinct records, each at its first row."""
    seen, items = set(), []
    for index, (record, fields) in enumerate(zip(record_hashes(frame), frame.iter_rows(named=True))):
        if record not in seen:
            seen.add(record)
            items.append(Item(index, record, fields))
    return items


def related_versions(version, store) -> list:
    """Where reusable scores may be: the version, its ancestors, and every version of their datasets."""
    out, seen = [], set()
    for v in walk_ancestry(version, root=store):
        for sibling in [v, *list_versions(v.name, root=store)]:
            if sibling.ref not in seen:
                seen.add(sibling.ref)
                out.append(sibling)
    return out


def default_run_dir(store, version, layer: str) -> Path:
    """Where the same command finds its journal again: under a local registry root, else here."""
    if store.is_local:
        return Path(store.root) / "runs" / "score" / f"{version.name}@{version.number}.{layer}"
    return Path(f"{version.name}@{version.number}.{layer}.score.run")


class JudgeScorer:
    """An LLM judge at any OpenAI-compatible endpoint rates each record with the rubric."""

    name = "judge"

    def __init__(self, endpoint: Endpoint, *, rubric: Rubric | None = None, temperature: float = 0.0,
                 max_tokens: int = 512, seed: int | None = 0, max_cost: float | None = None,
                 pricing: str | None = None, api_key: str | None = None, batch: BatchOptions | None = None,
                 batch_progress=None):
        self.endpoint, self.rubric, self.api_key = endpoint, rubric or load_rubric(), api_key
        self.batch, self.batch_progress = batch, batch_progress  # the Batch API: half the price, within 24 h
        self.batch_outcome: BatchOutcome | None = None
        self.decoding = Decoding(temperature=temperature, top_p=1.0, max_tokens=max_tokens, seed=seed)
        if max_cost is not None and not max_cost > 0:
            raise ValueError(f"max_cost must be positive (got {max_cost!r})")
        self.max_cost, self.pricing = max_cost, pricing
        base = endpoint.resolved_base_url or "https://api.openai.com/v1"
        self.settings = {"kind": "judge", "model": endpoint.model, "endpoint_host": endpoint_host(base),
                         "prompt_sha256": self.rubric.sha256, "prompt": self.rubric.path,
                         "decoding": {"temperature": temperature, "top_p": 1.0, "max_tokens": max_tokens,
                                      "seed": seed}}

    def requests(self, items: list[Item]) -> list[dict]:
        return [{"id": i.index, "record": i.record, "prompts": [self.rubric.render(i.fields)]} for i in items]

    def score(self, items: list[Item], context: Context) -> Outcome:
        requests = self.requests(items)
        identity = {"operation": "score", "version_hash": context.version_hash,
                    "settings_key": settings_key(self.settings)}
        price, counter = price_for(self.endpoint.model, load_pricing(self.pricing)), get_counter(self.endpoint.model)
        if context.replay:
            path = context.run_dir / JOURNAL
            if not path.exists():
                from modelcalls.errors import RunDirError

                raise RunDirError(f"{path}: no scoring journal to replay (is --run-dir the folder of an earlier run?)")
            state = read_journal(path)
            check_resumable(state, identity, path, keys=RESUME_KEYS, kind="a scoring run", advice="use a new --run-dir")
            return self._outcome(items, state, journaled_usage(state, lambda _: price, counter).to_dict(), None)
        backend = build_backend(self.endpoint, api_key=self.api_key, count_tokens=counter.count)
        journal = open_run(context.run_dir, identity, backend, keys=RESUME_KEYS, kind="a scoring run",
                           advice="use a new --run-dir", config={"scorer": redact(self.settings)})
        calls = Calls(journal, concurrency=self.endpoint.concurrency, max_tokens=self.decoding.max_tokens,
                      price_of=lambda _: price, counter=counter, max_cost=self.max_cost)
        state = journal.state
        answered = {r["id"] for r in state.responses}
        todo = [r for r in requests if r["id"] not in answered]
        done = [len(answered & {r["id"] for r in requests})]

        def count(request, response):
            done[0] += 1

        async def run():
            try:
                if self.batch is not None:
                    return await run_batched(calls, todo, backend, self.decoding, self.batch, on_response=count,
                                             progress=self.batch_progress)
                await run_requests(calls, todo, backend, self.decoding, on_response=count,
                                   progress=context.progress and (lambda: context.progress(done[0], len(requests))))
            finally:
                await backend.aclose()

        self.batch_outcome = run_resumable(run(), context.run_dir)
        pending = self.batch_outcome.pending(context.run_dir) if self.batch_outcome is not None else None
        return self._outcome(items, state, calls.usage.to_dict(), calls.stopped_by or (pending and "batch_pending"),
                             pending)

    def _outcome(self, items: list[Item], state, usage: dict, stopped_by: str | None,
                 note: str | None = None) -> Outcome:
        replies = {r["id"]: r["completions"][0] for r in state.responses}
        outcome = Outcome(usage=usage, stopped_by=stopped_by, note=note)
        for item in items:
            reply = replies.get(item.index)
            if reply is None:
                outcome.scores[item.record], outcome.problems[item.record] = (None, None), "not_in_journal"
                continue
            score, reason, problem = parse_score(reply["text"], reply.get("finish_reason"))
            outcome.scores[item.record] = (score, reason)
            if problem:
                outcome.problems[item.record] = problem
        return outcome

    def plan(self, items: list[Item], run_dir: Path | None = None) -> dict:
        """--dry-run: the requests still to send, their tokens and dollars (expected and worst case)."""
        answered = set()
        if run_dir is not None and (Path(run_dir) / JOURNAL).exists():
            answered = {r["id"] for r in read_journal(Path(run_dir) / JOURNAL).responses}
        todo = [r for r in self.requests(items) if r["id"] not in answered]
        sync_price = price_for(self.endpoint.model, load_pricing(self.pricing))
        price, counter = (sync_price.batch if self.batch else sync_price), get_counter(self.endpoint.model)
        prompt_tokens = sum(counter.count(r["prompts"][0]) for r in todo)
        reply = min(EXPECTED_REPLY_TOKENS, self.decoding.max_tokens)
        return {"model": self.endpoint.model, "requests": len(todo), "already_scored": len(answered),
                "prompt_tokens": prompt_tokens, "completion_tokens": reply * len(todo),
                "dollars": round(price.cost(prompt_tokens, reply * len(todo)), 4),
                "worst_case_dollars": round(price.cost(prompt_tokens, self.decoding.max_tokens * len(todo)), 4),
                "batch": self.batch is not None,
                "sync_dollars": round(sync_price.cost(prompt_tokens, reply * len(todo)), 4),
                "price_known": price.known, "token_counter": counter.method}


def plan_version(ref: str, scorer, *, layer: str | None = None, root=None, run_dir=None) -> dict:
    """What scoring `ref` would send and cost, reusing what can be reused; sends nothing."""
    store = as_store(root)
    version = resolve(ref, root=store)
    name = check_layer_name(layer or scorer.name)
    items = distinct_items(open_version(version, root=store))
    reused = reusable_scores(related_versions(version, store), settings_key(scorer.settings), root=store)
    todo = [i for i in items if i.record not in reused]
    run_dir = Path(run_dir) if run_dir else default_run_dir(store, version, name)
    plan = scorer.plan(todo, run_dir) if hasattr(scorer, "plan") else {"requests": 0, "dollars": 0.0}
    return {"version": version.ref, "layer": name, "records": len(items), "reused": len(items) - len(todo),
            "to_score": len(todo), **plan}
