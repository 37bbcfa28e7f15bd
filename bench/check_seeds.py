"""Print similarity and shape figures for the default seed tasks.

    PYTHONPATH=. python bench/check_seeds.py [--seeds seeds/default.jsonl] [--top 5]

Figures: the highest ROUGE-L F-measure between two of our instructions, and between one of
ours and one of Self-Instruct's 175 seeds (read from ../shared/data when present); counts per
category (from seeds/default_categories.json), share of tasks with an input, classification
count, and word-length statistics. Self-Instruct keeps a generated instruction only when its
ROUGE-L against every earlier one is below 0.7 (Wang et al. 2023, section 2.3), so 0.7 is the
bound our seeds must stay under.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import Counter
from itertools import combinations
from pathlib import Path

from rouge_score import rouge_scorer

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL_SEEDS = ROOT.parent / "shared" / "data" / "seed_tasks.jsonl"


def load_tasks(path: Path) -> list[dict]:
    """Read one seed task per JSON line."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_pairs(pairs, scorer) -> list[tuple[float, str, str]]:
    """ROUGE-L F-measure for each (a, b) pair of instructions, highest first."""
    scored = [(scorer.score(a, b)["rougeL"].fmeasure, a, b) for a, b in pairs]
    return sorted(scored, key=lambda s: s[0], reverse=True)


def describe_lengths(label: str, values: list[int]) -> str:
    """One line with min / median / mean / max of a list of word counts."""
    return (f"{label:<22} min {min(values):>4}  median {statistics.median(values):>6.1f}  "
            f"mean {statistics.mean(values):>6.1f}  max {max(values):>4}")


def print_top(title: str, scored: list[tuple[float, str, str]], top: int) -> None:
    """Print the highest-scoring pairs, then the share of pairs above a few levels."""
    values = [s for s, _, _ in scored]
    p99 = statistics.quantiles(values, n=100)[98]
    print(f"\n{title}: {len(scored)} pairs, max ROUGE-L F = {values[0]:.4f}, "
          f"mean {statistics.mean(values):.4f}, 99th percentile {p99:.4f}")
    for level in (0.5, 0.6, 0.7):
        print(f"  pairs above {level}: {sum(v > level for v in values)}")
    for s, a, b in scored[:top]:
        print(f"  {s:.4f}  {a!r}\n          {b!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds" / "default.jsonl")
    parser.add_argument("--categories", type=Path, default=ROOT / "seeds" / "default_categories.json")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()

    tasks = load_tasks(args.seeds)
    ours = [t["instruction"] for t in tasks]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)

    print(f"tasks: {len(tasks)}")
    with_input = sum(bool(t["instances"][0]["input"].strip()) for t in tasks)
    print(f"with input: {with_input} ({with_input / len(tasks):.0%})")
    print(f"classification: {sum(t['is_classification'] for t in tasks)}")
    first_words = Counter(s.split()[0] for s in ours)
    word, n = first_words.most_common(1)[0]
    print(f"distinct first words: {len(first_words)} (most common: {word!r} x {n})")
    print(describe_lengths("instruction words", [len(s.split()) for s in ours]))
    print(describe_lengths("input words (if any)",
                           [len(t["instances"][0]["input"].split()) for t in tasks
                            if t["instances"][0]["input"].strip()]))
    print(describe_lengths("output words", [len(t["instances"][0]["output"].split()) for t in tasks]))

    if args.categories.exists():
        categories = json.loads(args.categories.read_text(encoding="utf-8"))
        counts = Counter(categories.get(t["name"], "(none)") for t in tasks)
        print("\ncategories:")
        for name, n in counts.most_common():
            print(f"  {name:<22} {n}")

    print_top("within our seeds", score_pairs(combinations(ours, 2), scorer), args.top)
    if ORIGINAL_SEEDS.exists():
        originals = [t["instruction"] for t in load_tasks(ORIGINAL_SEEDS)]
        cross = ((a, b) for a in ours for b in originals)
        print_top(f"ours vs {len(originals)} Self-Instruct seeds", score_pairs(cross, scorer), args.top)
    else:
        print(f"\n{ORIGINAL_SEEDS} is absent: skipped the comparison with Self-Instruct's seeds")


if __name__ == "__main__":
    main()
