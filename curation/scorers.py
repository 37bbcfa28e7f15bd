"""The scorers `registry score --scorer NAME` knows, built from the command's options.

judge: an LLM at any OpenAI-compatible endpoint with the rubric (curation/judge_scores.py); the
local-model and rule scorers live in curation/lm_scores.py and curation/rule_scores.py.
"""

from __future__ import annotations

import os

from modelcalls.endpoint import Endpoint
from modelcalls.errors import ConfigError


def build_scorer(kind: str, *, api_key: str | None = None, judge_model: str | None = None,
                 base_url: str | None = None, rubric: str | None = None, concurrency: int = 8,
                 max_tokens: int = 512, temperature: float = 0.0, timeout_s: float = 120.0,
                 rpm: float | None = None, tpm: float | None = None, max_cost: float | None = None,
                 pricing: str | None = None, model: str | None = None, batch_size: int = 16,
                 batch=None, batch_progress=None):
    """The scorer named `kind`; a ValueError or ConfigError (exit 2) for options it cannot work with."""
    if kind == "judge":
        from curation.judge_scores import load_rubric
        from curation.score import JudgeScorer

        if not judge_model:
            raise ValueError("--scorer judge needs --judge-model (the judge's name at the endpoint)")
        if not (base_url or os.environ.get("OPENAI_BASE_URL") or api_key or os.environ.get("OPENAI_API_KEY")):
            raise ConfigError("no judge endpoint is configured: set OPENAI_API_KEY (or --api-key) for OpenAI, or "
                              "--base-url / OPENAI_BASE_URL for a local OpenAI-compatible server; --dry-run "
                              "prices the run without one")
        endpoint = Endpoint(model=judge_model, base_url=base_url, timeout_s=timeout_s, rpm=rpm, tpm=tpm,
                            concurrency=concurrency)
        return JudgeScorer(endpoint, rubric=load_rubric(rubric), temperature=temperature, max_tokens=max_tokens,
                           max_cost=max_cost, pricing=pricing, api_key=api_key, batch=batch,
                           batch_progress=batch_progress)
    raise ValueError(f"--scorer {kind!r}: choose judge")
