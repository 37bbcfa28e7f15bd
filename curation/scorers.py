"""The scorers `registry score --scorer NAME` knows, built from the command's options.

judge: an LLM at any OpenAI-compatible endpoint with the rubric (curation/judge_scores.py);
ifd and perplexity: a causal LM's own losses, in-process (curation/lm_scores.py); rules: lengths
and the generator's quality checks as 0/1 (curation/rule_scores.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from modelcalls.endpoint import Endpoint
from modelcalls.errors import ConfigError


def build_scorer(kind: str, *, api_key: str | None = None, judge_model: str | None = None,
                 base_url: str | None = None, rubric: str | None = None, concurrency: int = 8,
                 max_tokens: int = 512, temperature: float = 0.0, timeout_s: float = 120.0,
                 rpm: float | None = None, tpm: float | None = None, max_cost: float | None = None,
                 pricing: str | None = None, model: str | None = None, batch_size: int = 16,
                 template: str | None = None, max_length: int = 512, batch=None, batch_progress=None):
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
    if kind in LM_KINDS:
        return LocalModelScorer(kind, model=model, batch_size=batch_size, template=template, max_length=max_length)
    from curation.rule_scores import RULE_NAMES

    if kind in RULE_NAMES:
        return RuleScorer(kind)
    raise ValueError(f"--scorer {kind!r}: choose judge, {', '.join(LM_KINDS)} or a rule "
                     f"({', '.join(RULE_NAMES)})")


LM_KINDS = ("ifd", "perplexity")


class LocalModelScorer:
    """IFD or perplexity from a causal LM's own losses, in-process (curation/lm_scores.py)."""

    def __init__(self, kind: str, *, model: str | None = None, batch_size: int = 16, template: str | None = None,
                 max_length: int = 512):
        from curation.lm_scores import lineage
        from finetune.templates import load_template
        from selfinstruct.local_model import ensure_local_model

        self.name, self.batch_size, self.max_length = kind, batch_size, max_length
        if model is not None and not Path(model, "config.json").is_file():
            raise ConfigError(f"--model {model}: not a local checkpoint folder (no config.json)")
        self.path = Path(model).resolve() if model else ensure_local_model()
        self.template = load_template(template or "alpaca")
        self.settings = lineage(kind, self.path, self.template, max_length)

    def score(self, items, context):
        from curation.lm_scores import score_outputs
        from curation.score import Outcome

        values, _ = score_outputs([i.fields for i in items], template=self.template, kind=self.name,
                                  model_path=self.path, batch_size=self.batch_size, max_length=self.max_length)
        outcome = Outcome()
        for item, value in zip(items, values):
            outcome.scores[item.record] = (value, None)
            if value is None:
                outcome.problems[item.record] = "no_output_tokens"
        return outcome


class RuleScorer:
    """A length or one of the generator's quality checks as 0/1 (curation/rule_scores.py)."""

    def __init__(self, name: str):
        self.name, self.settings = name, {"kind": "rule", "rule": name}

    def score(self, items, context):
        from curation.rule_scores import rule_scores
        from curation.score import Outcome

        values = rule_scores([i.fields for i in items], self.name)
        return Outcome(scores={i.record: (v, None) for i, v in zip(items, values)})
