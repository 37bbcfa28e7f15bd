"""Judge two answer files end to end: pair them, judge both orders, write annotations and results.

    results = judge_answer_files("a.json", "b.json", JudgeConfig("gpt-4o-mini"), "cmp/")

OUT/annotations.json holds AlpacaEval rows (output_1 = A, output_2 = B, both raw verdicts);
OUT/results.json the statistics; OUT/judge.run/ the journal that makes the run resumable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from evaluation.annotations import write_annotations
from evaluation.judge import JudgeConfig, judge, plan_cost, plan_requests, replay
from evaluation.judge_results import judge_results
from evaluation.outputs import pair_outputs, read_model_outputs
from evaluation.verdicts import load_judge_template
from modelcalls.batch import BatchOptions
from modelcalls.loop import run_resumable
from records.files import write_json_atomic

RUN_DIR = "judge.run"


def prepare(a_path, b_path, cfg: JudgeConfig):
    """Read and pair the answers, load the prompt, plan the requests and the run's identity."""
    a, b = read_model_outputs(a_path), read_model_outputs(b_path)
    pairs, unmatched = pair_outputs(a, b)
    if not pairs:
        raise ValueError(f"{a_path} and {b_path} share no instruction: nothing to judge")
    template = load_judge_template(cfg.judge_prompt)
    identity = {"judge_model": cfg.judge_model, "prompt_sha256": template.sha256, "prompt_path": template.path,
                "a_sha256": a.sha256, "b_sha256": b.sha256, "temperature": cfg.temperature,
                "max_tokens": cfg.max_tokens, "model_a": a.generator, "model_b": b.generator}
    return a, b, pairs, unmatched, plan_requests(pairs, template), identity


def dry_run(a_path, b_path, cfg: JudgeConfig, out_dir, *, batch: bool = False) -> dict:
    *_, requests, _ = prepare(a_path, b_path, cfg)
    return plan_cost(cfg, requests, Path(out_dir) / RUN_DIR, batch=batch)


def judge_answer_files(a_path, b_path, cfg: JudgeConfig, out_dir, *, api_key: str | None = None,
                       from_journal: bool = False, backend=None, batch: BatchOptions | None = None,
                       batch_progress=None) -> dict:
    """Judge (or, with `from_journal`, re-read the journal of) A against B; write and return results.
    With `batch`, through the Batch API; when batches are still in flight (or were cancelled), the
    results are not written yet and the returned dict holds only "batch" and "pending"."""
    a, b, pairs, unmatched, requests, identity = prepare(a_path, b_path, cfg)
    out = Path(out_dir)
    if from_journal:
        run = replay(cfg, requests, identity, run_dir=out / RUN_DIR)
    else:
        backend = backend or build_judge_backend(cfg, api_key)
        run = run_resumable(judge(cfg, backend, requests, identity, run_dir=out / RUN_DIR, batch=batch,
                                  batch_progress=batch_progress), out / RUN_DIR)
        if run.batch is not None and (pending := run.batch.pending(out / RUN_DIR)):
            return {"batch": run.batch.to_dict(), "usage": run.usage.to_dict(), "pending": pending}
    results, rows = judge_results(run, pairs, cfg, model_a=a.generator, model_b=b.generator, unmatched=unmatched)
    results["answers"] = {"a": str(Path(a_path).resolve()), "b": str(Path(b_path).resolve())}
    if run.batch is not None:
        results["batch"] = run.batch.to_dict()
    write_annotations(rows, out / "annotations.json")
    write_json_atomic(out / "results.json", results)
    return results


def build_judge_backend(cfg: JudgeConfig, api_key: str | None = None):
    """The request layer's OpenAI-compatible backend, pointed at the judge (chat API, one prompt per request)."""
    from modelcalls.endpoint import build_backend
    from modelcalls.errors import ConfigError
    from modelcalls.tokens import get_counter

    if not (cfg.base_url or os.environ.get("OPENAI_BASE_URL") or api_key or os.environ.get("OPENAI_API_KEY")):
        raise ConfigError("no judge endpoint is configured, so nothing was sent: set OPENAI_API_KEY (or --api-key) "
                          "for OpenAI, or --base-url / OPENAI_BASE_URL for a local OpenAI-compatible server; "
                          "--dry-run prices the run without one")
    return build_backend(cfg.endpoint(), api_key=api_key, count_tokens=get_counter(cfg.judge_model).count)
