"""Run a pairwise judge over two models' answers: every item twice (A shown first, then B first).

    run = asyncio.run(judge(cfg, backend, pairs, template, run_dir="cmp.run"))

The request layer (`modelcalls`) does the work, as for generation: requests go through the same
backend (retries, rate limits, error classes), every request and raw reply is appended to the same
journal, and tokens and dollars are counted the same way. Running again on the run directory resumes: a comparison whose
reply is in the journal is never sent again. `replay` reads the journal and sends nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from modelcalls.accounting import Usage, journaled_usage
from modelcalls.backends.base import Backend, Decoding
from modelcalls.batch import BatchOptions, BatchOutcome, run_batched
from modelcalls.endpoint import Endpoint
from modelcalls.errors import RunDirError
from modelcalls.journal import JOURNAL, JournalState, check_resumable, open_run, read_journal
from modelcalls.loop import Calls, run_requests
from modelcalls.pricing import load_pricing, price_for
from modelcalls.tokens import get_counter

from evaluation.verdicts import A_FIRST, B_FIRST, JudgeTemplate

RESUME_KEYS = ("judge_model", "prompt_sha256", "a_sha256", "b_sha256", "temperature", "max_tokens")
RESUME = {"keys": RESUME_KEYS, "kind": "a judge run", "advice": "use a new --output directory"}


@dataclass
class JudgeConfig:
    judge_model: str
    """The judge's model name at the endpoint."""
    base_url: str | None = None
    judge_prompt: str | None = None
    """A prompt file with {instruction} {input} {output_a} {output_b}; None: the shipped one."""
    concurrency: int = 8
    temperature: float = 0.0
    max_tokens: int = 1024
    """Completion tokens per verdict; a reply cut at this limit counts as truncated."""
    timeout_s: float = 120.0
    rpm: float | None = None
    tpm: float | None = None
    max_cost: float | None = None
    """Stop before the run could spend more than this many dollars (each request reserves its worst case)."""
    pricing: str | None = None
    n_boot: int = 2000
    level: float = 0.95
    seed: int = 0

    def __post_init__(self):
        self.endpoint()  # the request layer's checks: concurrency, timeout, base_url, rates
        self.decoding()  # temperature, max_tokens
        if self.max_cost is not None and not self.max_cost > 0:
            raise ValueError(f"max_cost must be positive (got {self.max_cost!r})")

    def endpoint(self) -> Endpoint:
        """The judge's endpoint: chat API, one prompt per request."""
        return Endpoint(model=self.judge_model, base_url=self.base_url, timeout_s=self.timeout_s, rpm=self.rpm,
                        tpm=self.tpm, concurrency=self.concurrency)

    def decoding(self) -> Decoding:
        return Decoding(temperature=self.temperature, top_p=1.0, max_tokens=self.max_tokens, seed=self.seed)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class JudgeRun:
    requests: list[dict]
    state: JournalState
    usage: Usage
    run_dir: Path
    stopped_by: str | None = None
    identity: dict = field(default_factory=dict)
    batch: BatchOutcome | None = None
    """What the Batch API did, when the verdicts went through it."""


def plan_requests(pairs: list[dict], template: JudgeTemplate) -> list[dict]:
    """Two requests per item, ids 2i (A shown first) and 2i+1 (B shown first); deterministic, so a
    resumed run asks the same things."""
    requests = []
    for i, p in enumerate(pairs):
        for offset, order in enumerate((A_FIRST, B_FIRST)):
            first, second = (p["output_a"], p["output_b"]) if order == A_FIRST else (p["output_b"], p["output_a"])
            prompt = template.render(instruction=p["instruction"], input=p["input"], output_a=first, output_b=second)
            requests.append({"id": 2 * i + offset, "item": i, "order": order, "prompts": [prompt]})
    return requests


async def judge(cfg: JudgeConfig, backend: Backend, requests: list[dict], identity: dict, *,
                run_dir: str | Path, batch: BatchOptions | None = None, batch_progress=None) -> JudgeRun:
    """Send every planned request that has no journaled reply, at most `cfg.concurrency` at a time, or
    with `batch` through the endpoint's Batch API (`modelcalls.batch`)."""
    price, counter = price_for(cfg.judge_model, load_pricing(cfg.pricing)), get_counter(cfg.judge_model)
    journal = open_run(run_dir, identity, backend, **RESUME, config=cfg.to_dict())
    calls = Calls(journal, concurrency=cfg.concurrency, max_tokens=cfg.max_tokens, price_of=lambda _: price,
                  counter=counter, max_cost=cfg.max_cost)
    answered = {r["id"] for r in journal.state.responses}
    todo = [r for r in requests if r["id"] not in answered]
    outcome = None
    try:
        if batch is not None:
            outcome = await run_batched(calls, todo, backend, cfg.decoding(), batch, progress=batch_progress)
        else:
            await run_requests(calls, todo, backend, cfg.decoding())
    finally:
        await backend.aclose()
    usage, stopped_by = calls.usage, calls.stopped_by
    return JudgeRun(requests, journal.state, usage, Path(run_dir), stopped_by, identity, outcome)


def replay(cfg: JudgeConfig, requests: list[dict], identity: dict, *, run_dir: str | Path) -> JudgeRun:
    """The replies a judge run journaled, priced as they were; sends nothing."""
    path = Path(run_dir) / JOURNAL
    if not path.exists():
        raise RunDirError(f"{path}: no judge journal to replay (is --output the directory of an earlier run?)")
    state = read_journal(path)
    check_resumable(state, identity, path, **RESUME)
    price, counter = price_for(cfg.judge_model, load_pricing(cfg.pricing)), get_counter(cfg.judge_model, offline=True)
    usage = journaled_usage(state, lambda _: price, counter)
    return JudgeRun(requests, state, usage, Path(run_dir), None, identity)


def plan_cost(cfg: JudgeConfig, requests: list[dict], run_dir: str | Path | None = None,
              expected_reply_tokens: int = 250, *, batch: bool = False) -> dict:
    """--dry-run: requests still to send, their prompt tokens and dollars (expected and worst case),
    at the Batch API's prices with `batch` (and what the same would cost synchronously)."""
    answered = set()
    if run_dir and (Path(run_dir) / JOURNAL).exists():
        answered = {r["id"] for r in read_journal(Path(run_dir) / JOURNAL).responses}
    todo = [r for r in requests if r["id"] not in answered]
    sync_price, counter = price_for(cfg.judge_model, load_pricing(cfg.pricing)), get_counter(cfg.judge_model)
    price = sync_price.batch if batch else sync_price
    prompt_tokens = sum(counter.count(p) for r in todo for p in r["prompts"])
    reply = min(expected_reply_tokens, cfg.max_tokens)
    return {"judge_model": cfg.judge_model, "items": len(requests) // 2, "requests": len(todo),
            "already_judged": len(answered), "prompt_tokens": prompt_tokens,
            "completion_tokens": reply * len(todo), "dollars": round(price.cost(prompt_tokens, reply * len(todo)), 4),
            "worst_case_dollars": round(price.cost(prompt_tokens, cfg.max_tokens * len(todo)), 4),
            "batch": batch, "sync_dollars": round(sync_price.cost(prompt_tokens, reply * len(todo)), 4),
            "price_known": price.known, "token_counter": counter.method}
