"""Answer every instruction of an evaluation set with one model, in AlpacaEval's model_outputs format.

    items = load_instructions("user_oriented_instructions.jsonl")
    cfg = AnswerConfig(model="runs/alpaca-tiny")
    backend, fmt = open_backend(cfg)
    result = asyncio.run(answer(cfg, backend, fmt, items, run_dir="answers.run",
                                set_path="user_oriented_instructions.jsonl"))

Requests go through the request layer (`modelcalls`): an OpenAI-compatible endpoint (its rate
limits, retries and error handling) or a local checkpoint in-process (batched). Every request and
response is journaled in the run directory exactly as `generate` does; running again on the same
run directory resumes, sending nothing for instructions already answered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from evaluation.context import long_prompts_note
from evaluation.outputs import set_sha256 as set_identity
from evaluation.prompt_format import PromptFormat, resolve_format
from modelcalls.accounting import Usage
from modelcalls.backends.base import Backend, Decoding
from modelcalls.batch import BatchOptions, BatchOutcome, run_batched
from modelcalls.endpoint import Endpoint, build_backend
from modelcalls.errors import ConfigError
from modelcalls.journal import open_run
from modelcalls.loop import Calls, run_requests
from modelcalls.pricing import load_pricing, price_for
from modelcalls.tokens import get_counter
from records.files import write_text_atomic
from records.timestamps import iso_utc

log = logging.getLogger(__name__)

# What must match for a run directory to be resumed: mixing them would mix two evaluations.
RESUME_KEYS = ("model", "set_sha256", "prompt_sha256", "decoding")


@dataclass
class AnswerConfig:
    model: str
    """A local checkpoint path (in-process), or the model's name at --base-url."""
    base_url: str | None = None
    """An OpenAI-compatible endpoint; None answers in-process with the checkpoint at `model`."""
    api: str = "chat"
    """chat or completions (the endpoint's API; completions sends the rendered prompt as is)."""
    template: str | None = None
    """Prompt format override: a finetune template name or YAML file, `chat` or `plain`."""
    generator: str | None = None
    """Name written in each output's `generator` field; default: the checkpoint folder or model name."""
    temperature: float = 0.0
    """0 is greedy (reproducible); above 0 samples."""
    top_p: float = 1.0
    max_tokens: int = 1024
    """New tokens per answer at most."""
    seed: int | None = 0
    concurrency: int | None = None
    """Requests in flight: default 8 for an endpoint, twice the batch size in-process."""
    batch_size: int = 16
    """In-process: prompts per model.generate call."""
    timeout_s: float = 120.0
    rpm: float | None = None
    tpm: float | None = None
    max_cost: float | None = None
    """Stop before the answers could cost more than this many dollars (all sessions of the run)."""
    pricing: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency is not None and self.concurrency < 1:  # None: the default for the backend
            raise ValueError(f"concurrency must be at least 1 (got {self.concurrency!r})")
        self.endpoint()  # the request layer's checks: timeout, base_url, rates, concurrency
        self.decoding()  # temperature, top_p, max_tokens
        if self.max_cost is not None and not self.max_cost > 0:
            raise ValueError(f"max_cost must be positive (got {self.max_cost!r})")

    def endpoint(self) -> Endpoint:
        """Where the answers are asked: the endpoint at base_url, else the checkpoint in-process."""
        return Endpoint(model=self.model, backend="openai" if self.base_url else "transformers", api=self.api,
                        base_url=self.base_url, timeout_s=self.timeout_s, rpm=self.rpm, tpm=self.tpm,
                        concurrency=self.in_flight, batch_size=self.batch_size)

    @property
    def in_flight(self) -> int:
        return self.concurrency or (8 if self.base_url else 2 * self.batch_size)

    @property
    def generator_name(self) -> str:
        return self.generator or (self.model if self.base_url else Path(self.model).resolve().name)

    def decoding(self) -> Decoding:
        return Decoding(self.temperature, self.top_p, self.max_tokens, (), self.seed)


@dataclass
class AnswerResult:
    outputs: list[dict]
    """AlpacaEval model_outputs records, in the set's order (only answered instructions)."""
    total: int
    usage: Usage
    run_dir: Path
    prompt_format: PromptFormat
    stopped_by: str | None = None
    truncated: int = 0
    """Answers cut at --max-tokens (finish_reason "length")."""
    summary: dict = field(default_factory=dict)
    batch: BatchOutcome | None = None
    """What the Batch API did, when the answers went through it."""


def load_instructions(source: str | Path, *, root=None) -> list[dict]:
    """What a model answers: the items of an evaluation set (`evaluation.sets.load_set`: a file in
    any supported format, or a registry version), with the dataset and app they come from."""
    from evaluation.sets import load_set

    return [{"instruction": item["instruction"], "input": item["input"],
             "dataset": item.get("dataset") or ("selfinstruct" if item.get("motivation_app") else "unknown"),
             **({"motivation_app": item["motivation_app"]} if item.get("motivation_app") else {})}
            for item in load_set(source, root=root).items]


def open_backend(cfg: AnswerConfig, *, api_key: str | None = None) -> tuple[Backend, PromptFormat]:
    """The backend that answers, and the prompt format the model gets."""
    if cfg.base_url:
        backend = build_backend(cfg.endpoint(), api_key=api_key, count_tokens=get_counter(cfg.model).count)
        # A chat endpoint applies the served model's chat template; the completions API takes text.
        fmt = resolve_format(None, cfg.template, has_chat_template=cfg.api == "chat")
        return backend, fmt
    backend = build_backend(replace(cfg.endpoint(), api="chat"))  # the prompt format decides the template below
    fmt = resolve_format(cfg.model, cfg.template, has_chat_template=backend.has_chat_template)
    if fmt.kind == "chat" and not backend.has_chat_template:
        raise ConfigError(f"{cfg.model}: --template chat, but the tokenizer has no chat template")
    backend.chat = fmt.kind == "chat"  # the backend wraps each prompt in the chat template itself
    return backend, fmt


async def answer(cfg: AnswerConfig, backend: Backend, fmt: PromptFormat, items: list[dict], *,
                 run_dir: str | Path, set_path: str | Path, progress=None, batch: BatchOptions | None = None,
                 batch_progress=None) -> AnswerResult:
    """Answer `items` (resuming from `run_dir`'s journal); return the outputs in set order. With
    `batch`, the requests go through the endpoint's Batch API (`modelcalls.batch`)."""
    set_sha256 = set_identity(items)  # what is asked, in order (a set may be a registry version, not a file)
    decoding = cfg.decoding()
    price = price_for(cfg.model, load_pricing(cfg.pricing))
    counter = get_counter(cfg.model, offline=not cfg.base_url)
    identity = {"model": cfg.model, "set_sha256": set_sha256, "prompt_sha256": fmt.sha256,
                "decoding": json.loads(json.dumps(asdict(decoding)))}  # as the journal holds it
    journal = open_run(run_dir, identity, backend, keys=RESUME_KEYS, kind="answers", advice="use a new --run-dir",
                       operation="answer", set_path=str(set_path), prompt_format=fmt.describe(), config=asdict(cfg))
    started = journal.state.starts[0]["time"]
    calls = Calls(journal, concurrency=cfg.in_flight, max_tokens=cfg.max_tokens, price_of=lambda _: price,
                  counter=counter, max_cost=cfg.max_cost)
    answered: dict[int, dict] = {r["id"]: r for r in journal.state.responses}
    prompts = [fmt.render(item["instruction"], item["input"]) for item in items]
    todo = [i for i in range(len(items)) if i not in answered]
    if note := long_prompts_note(backend, [prompts[i] for i in todo], cfg.model):
        log.warning("%s", note)
    if not cfg.base_url:  # in-process: similar lengths share a batch, so less of it is padding
        todo.sort(key=lambda i: len(prompts[i]))
    requests = [journal.state.requests.get(i) or {"id": i, "prompts": [prompts[i]]} for i in todo]

    def keep(request: dict, response: dict) -> None:
        answered[request["id"]] = response

    outcome = None
    try:
        if batch is not None:
            outcome = await run_batched(calls, requests, backend, decoding, batch, on_response=keep,
                                        progress=batch_progress)
        else:
            await run_requests(calls, requests, backend, decoding, on_response=keep,
                               progress=progress and (lambda: progress(len(answered), len(items))))
    finally:
        await backend.aclose()
    usage, stopped_by = calls.usage, calls.stopped_by
    outputs, truncated = [], 0
    generator = cfg.generator_name
    for i, item in enumerate(items):
        if i in answered:
            completion = answered[i]["completions"][0]
            truncated += completion.get("finish_reason") == "length"
            outputs.append(to_model_output(item, completion["text"], generator))
    result = AnswerResult(outputs, len(items), usage, Path(run_dir), fmt, stopped_by, truncated, batch=outcome)
    result.summary = {
        "operation": "answer", "generator": generator, "model": cfg.model,
        "backend": {"name": backend.name, "provider": backend.provider, "endpoint_host": backend.endpoint_host},
        "set": {"path": str(set_path), "sha256": set_sha256, "instructions": len(items)},
        "prompt_format": fmt.describe(), "decoding": asdict(decoding),
        "answered": len(outputs), "truncated": truncated, "stopped_by": stopped_by, "usage": usage.to_dict(),
        "time_window": {"started": iso_utc(started), "finished": iso_utc()}, "run_dir": str(run_dir),
        **({"batch": outcome.to_dict()} if outcome is not None else {}),
    }
    write_text_atomic(Path(run_dir) / "summary.json", json.dumps(result.summary, indent=2, ensure_ascii=False) + "\n")
    return result


def to_model_output(item: dict, output: str, generator: str) -> dict:
    """One record of AlpacaEval's model_outputs.json; `input` only when there is one."""
    record = {"instruction": item["instruction"], "output": output, "generator": generator,
              "dataset": item.get("dataset", "unknown")}
    if item.get("input"):
        record["input"] = item["input"]
    if item.get("motivation_app"):
        record["motivation_app"] = item["motivation_app"]
    return record


def write_outputs(path: str | Path, outputs: list[dict]) -> None:
    """A JSON list, as AlpacaEval writes model_outputs.json (written whole or not at all)."""
    write_text_atomic(path, json.dumps(outputs, indent=2, ensure_ascii=False) + "\n")
