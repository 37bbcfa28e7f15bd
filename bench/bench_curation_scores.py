"""Benchmark: IFD records per second with the built-in SmolLM2-135M on this CPU, batched vs one at a time.

Run from the repository root:  PYTHONPATH=. python bench/bench_curation_scores.py [--records 200] [--single 200]
Reads a seeded sample of ../shared/data/alpaca_data.jsonl (skips with a message when absent). The
model is loaded once. The sample is scored batched (batch 16; the scorer groups records of similar
length over the whole sample, so a larger sample pads less), then its first `--single` records (by
default all) one at a time; the two results are checked to agree. Prints the machine's load average
before, between and after: the CPU is shared, so compare figures taken under similar load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "alpaca_data.jsonl"


def sample(path: Path, n: int, seed: int = 0) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return random.Random(seed).sample(rows, n)


def timed(score, rows: list[dict], batch_size: int) -> tuple[list, float]:
    start = time.perf_counter()
    values = score(rows, batch_size)
    return values, time.perf_counter() - start


def load_average() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200, help="records scored batched")
    parser.add_argument("--single", type=int, default=None,
                        help="records of the sample scored one at a time (default: all)")
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent")
        return 0
    import torch

    from curation.lm_scores import load_model, score_loaded
    from finetune.templates import load_template
    from selfinstruct.errors import ConfigError
    from selfinstruct.local_model import ensure_local_model

    try:
        path = ensure_local_model()
    except ConfigError as e:
        print(f"skipped: {e}")
        return 0
    rows = sample(DATA, args.records)
    args.single = len(rows) if args.single is None else args.single
    model, tokenizer = load_model(path)
    template = load_template("alpaca")

    def score(part, batch_size):
        return score_loaded(model, tokenizer, part, template=template, kind="ifd", batch_size=batch_size)

    print(f"before: {load_average()}")
    print(f"model {path.name}, torch threads {torch.get_num_threads()}, {len(rows)} Alpaca records (seed 0), "
          f"max_length 512")
    batched, t_batched = timed(score, rows, args.batch_size)
    print(f"batched (batch {args.batch_size}): {len(rows)} records in {t_batched:.1f}s, "
          f"{len(rows) / t_batched:.2f} records/s")
    print(f"between: {load_average()}")
    head = rows[:args.single]
    single, t_single = timed(score, head, 1)
    print(f"one at a time: {len(head)} records in {t_single:.1f}s, {len(head) / t_single:.2f} records/s")
    speedup = (len(rows) / t_batched) / (len(head) / t_single)
    worst = max(abs(a - b) for a, b in zip(batched, single) if a is not None)
    print(f"speed-up in records/s: {speedup:.2f}x (target >= 3x); largest IFD difference batched vs "
          f"one at a time: {worst:.2e}")
    print(f"after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
