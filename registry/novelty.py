"""ROUGE-L of each instruction to its nearest seed instruction (Self-Instruct's novelty figure).

Uses the toolkit's own ROUGE-L (`records.rouge`, equal to rouge-score's). The comparison is
quadratic, so large versions are sampled; the result says how many rows it used.
"""

from __future__ import annotations

import random

from records.rouge import rouge_l, tokenize

DEFAULT_SAMPLE = 500
BINS = [i / 10 for i in range(11)]


def nearest_seed_rouge(instructions: list[str], seeds: list[str], *, sample: int = DEFAULT_SAMPLE,
                       random_seed: int = 0) -> dict:
    """Histogram (10 bins over [0, 1]) of each sampled instruction's best ROUGE-L F to any seed."""
    rows = list(instructions)
    used = rows if len(rows) <= sample else random.Random(random_seed).sample(rows, sample)
    seed_tokens = [tokenize(s) for s in seeds]
    best = [max((rouge_l(tokenize(t), s) for s in seed_tokens), default=0.0) for t in used]
    counts = [0] * 10
    for b in best:
        counts[min(9, int(b * 10))] += 1
    return {
        "rows_total": len(rows), "rows_used": len(used), "sampled": len(used) < len(rows),
        "seeds": len(seeds), "bins": BINS, "counts": counts, "values": best,
        "mean": round(sum(best) / len(best), 4) if best else None,
    }
