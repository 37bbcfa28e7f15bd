"""Does a score layer point at the records people fixed by hand? Alpaca against AlpacaDataCleaned.

    python bench/curation_vs_cleaned.py scored.jsonl --layer ifd [--selected selected.jsonl]

scored.jsonl: a slice of Alpaca exported with its layer as a column
(`selfinstruct registry export alpaca-1k@1 --format jsonl --layer ifd -o scored.jsonl`);
selected.jsonl: the curated version exported the same way (optional). A record counts as "fixed
by hand" when its (instruction, input, output) is absent from the early AlpacaDataCleaned release
in ../shared/data (edited or removed there). Prints the layer's quartiles, each fixed record's
score and its percentile among the slice, how many fixed records the selection kept against what
a random selection of the same size would keep, and what the selection shifted (output length,
share with an input).
"""

from __future__ import annotations

import argparse
import json
import statistics
from bisect import bisect_left
from pathlib import Path

CLEANED = Path(__file__).resolve().parents[2] / "shared" / "data" / "alpaca_data_cleaned_2023-03-21.jsonl"


def key(record: dict) -> tuple[str, str, str]:
    return record["instruction"], record["input"], record["output"]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def describe(rows: list[dict]) -> str:
    words = statistics.mean(len(r["output"].split()) for r in rows)
    with_input = sum(bool(r["input"].strip()) for r in rows) / len(rows)
    return f"{len(rows):,} records, output {words:.1f} words on average, {with_input:.1%} with an input"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scored", type=Path)
    parser.add_argument("--layer", default="ifd")
    parser.add_argument("--selected", type=Path)
    parser.add_argument("--cleaned", type=Path, default=CLEANED)
    args = parser.parse_args()
    if not args.cleaned.exists():
        raise SystemExit(f"{args.cleaned} is absent: this comparison needs AlpacaDataCleaned in ../shared/data")

    rows = read_jsonl(args.scored)
    kept_by_hand = {key(r) for r in read_jsonl(args.cleaned)}
    scores = sorted(r[args.layer] for r in rows if r.get(args.layer) is not None)
    fixed = [r for r in rows if key(r) not in kept_by_hand]
    q1, q2, q3 = statistics.quantiles(scores, n=4)
    print(f"{args.layer}: {len(scores):,} scored of {len(rows):,}; quartiles {q1:.3f} / {q2:.3f} / {q3:.3f}; "
          f"range {scores[0]:.3f} - {scores[-1]:.3f}")
    print(f"fixed or removed by hand in the cleaned release: {len(fixed)} of {len(rows):,}")
    percentiles = []
    for r in fixed:
        value = r.get(args.layer)
        if value is None:
            print(f"  (no score)          {r['instruction'][:60]!r}")
            continue
        percentile = bisect_left(scores, value) / len(scores)
        percentiles.append(percentile)
        print(f"  {value:7.3f}  p{percentile * 100:3.0f}  {r['instruction'][:60]!r}")
    if percentiles:
        print(f"mean percentile of the fixed records: {statistics.mean(percentiles):.2f} (0.50 = no signal)")
    print(f"slice:    {describe(rows)}")
    if args.selected:
        chosen = {key(r) for r in read_jsonl(args.selected)}
        picked = [r for r in rows if key(r) in chosen]
        share = len(picked) / len(rows)
        kept_fixed = sum(key(r) in chosen for r in fixed)
        print(f"selected: {describe(picked)}")
        print(f"fixed records kept by the selection: {kept_fixed} of {len(fixed)} "
              f"(a random selection of the same size keeps {share * len(fixed):.1f} on average)")


if __name__ == "__main__":
    main()
