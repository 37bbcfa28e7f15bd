"""ROUGE-L of each instruction to its nearest seed instruction (Self-Instruct's novelty figure).

Uses the toolkit's own ROUGE-L (`selfinstruct.rouge`) when installed, else rouge-score. The
comparison is quadratic, so large versions are sampled; the result says how many rows it used.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

DEFAULT_SAMPLE = 500
BINS = [i / 10 for i in range(11)]


def _scorer():
    try:
        from selfinstruct.rouge import rouge_l, tokenize

        return (lambda text: tokenize(text)), rouge_l
    except ImportError:
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        tokenizer = scorer._tokenizer  # the tokenizer rouge-score itself applies in score()

        def lcs_f(a: list[str], b: list[str]) -> float:
            return rouge_scorer._score_lcs(a, b).fmeasure

        return tokenizer.tokenize, lcs_f


def load_seed_instructions(path: str | Path) -> list[str]:
    """Instructions of a seed file: Self-Instruct's seed_tasks.jsonl or any JSON Lines with `instruction`."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if isinstance(obj, dict) and isinstance(obj.get("instruction"), str):
                out.append(obj["instruction"])
    return out


def nearest_seed_rouge(instructions: list[str], seeds: list[str], *, sample: int = DEFAULT_SAMPLE,
                       random_seed: int = 0) -> dict:
    """Histogram (10 bins over [0, 1]) of each sampled instruction's best ROUGE-L F to any seed."""
    tokenize, score = _scorer()
    rows = list(instructions)
    used = rows if len(rows) <= sample else random.Random(random_seed).sample(rows, sample)
    seed_tokens = [tokenize(s) for s in seeds]
    best = [max((score(tokenize(t), s) for s in seed_tokens), default=0.0) for t in used]
    counts = [0] * 10
    for b in best:
        counts[min(9, int(b * 10))] += 1
    return {
        "rows_total": len(rows), "rows_used": len(used), "sampled": len(used) < len(rows),
        "seeds": len(seeds), "bins": BINS, "counts": counts, "values": best,
        "mean": round(sum(best) / len(best), 4) if best else None,
    }
