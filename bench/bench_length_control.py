"""Time of the length-controlled win rate with its bootstrap interval on AlpacaEval's 805 items.

    python bench/bench_length_control.py [--n-boot 2000] [--repeats 5]

Reads AlpacaEval's annotations from ../shared/data/alpaca_eval (absent: says so and exits 2) and
prints, for AlpacaEval 1 and 2, the LC rate with its interval and the best of `repeats` timings of
(1) the LC rate and its interval alone and (2) all of `pairwise_stats` with the five per-category
splits, as `eval import-annotations` computes them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.annotations import annotation_scores, read_annotations, scored_rows  # noqa: E402
from evaluation.stats import length_control, pairwise_stats  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "alpaca_eval"
FILES = {"AlpacaEval 1": "alpaca-7b.alpaca_eval_gpt4.annotations.json",
         "AlpacaEval 2": "alpaca-7b.weighted_alpaca_eval_gpt4_turbo.annotations.json"}


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} is absent", file=sys.stderr)
        return 2
    pairwise_stats([1, 0, 0.5], len_a=[3, 1, 2], len_b=[2, 2, 2], n_boot=10)  # imports, first allocations
    for label, name in FILES.items():
        rows = read_annotations(DATA / name)
        kept = scored_rows(rows)
        scores = np.asarray(annotation_scores(rows))
        len_a, len_b = [len(r["output_2"]) for r in kept], [len(r["output_1"]) for r in kept]
        categories = [r["dataset"] for r in kept]
        lc, low, high = length_control(scores, len_a, len_b, n_boot=args.n_boot, seed=0, level=0.95)
        alone = best_time(lambda: length_control(scores, len_a, len_b, n_boot=args.n_boot, seed=0, level=0.95),
                          args.repeats)
        whole = best_time(lambda: pairwise_stats(scores, len_a=len_a, len_b=len_b, categories=categories,
                                                 n_boot=args.n_boot), args.repeats)
        print(f"{label} ({len(kept)} items, {args.n_boot} resamples): LC {100 * lc:.2f}% "
              f"[{100 * low:.2f}, {100 * high:.2f}]; LC with interval {alone:.3f} s, "
              f"pairwise_stats with categories {whole:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
