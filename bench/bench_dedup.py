"""Benchmark: indexed ROUGE-L dedup vs Alpaca's exhaustive scan, the full 52K stream, MinHash, and the
keep/drop stage over the 52K records as `selfinstruct dedup` runs it.

Run from the repository root:  PYTHONPATH=. python bench/bench_dedup.py [--exhaustive-size 2000]
Reads ../shared/data/alpaca_data.jsonl (and seed_tasks.jsonl when present); prints figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from selfinstruct.decide import sieve_records
from selfinstruct.dedup import MinHashIndex, RougeIndex, exhaustive_rouge_decisions, record_text
from selfinstruct.sieve_options import SieveOptions

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FILLERS = ["new", "big", "the", "data", "simple", "short", "following", "a"]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def plant_duplicates(texts: list[str], rate: float, seed: int = 0) -> list[str]:
    """After each text, with probability `rate`, add a copy with one word swapped/inserted/deleted."""
    rng = random.Random(seed)
    out = []
    for text in texts:
        out.append(text)
        if rng.random() < rate:
            words = text.split()
            op = rng.choice(["swap", "insert", "delete"])
            if op == "swap" and words:
                words[rng.randrange(len(words))] = rng.choice(FILLERS)
            elif op == "insert" or len(words) < 2:
                words.insert(rng.randint(0, len(words)), rng.choice(FILLERS))
            else:
                del words[rng.randrange(len(words))]
            out.append(" ".join(words))
    return out


def run_index(stream: list[str], seeds: list[str], threshold: float, floor: float):
    index = RougeIndex(threshold, report_floor=floor)
    start, cpu = time.perf_counter(), time.process_time()
    for seed in seeds:
        index.add(seed)
    verdicts = [index.check_and_add(text) for text in stream]
    return verdicts, time.perf_counter() - start, time.process_time() - cpu, index


def compare_with_exhaustive(instructions: list[str], seeds: list[str], size: int, threshold: float) -> None:
    stream = plant_duplicates(instructions[:size], 0.10, seed=1)
    print(f"[1] {len(stream)} instructions ({len(stream) - size} planted) + {len(seeds)} seeds, "
          f"threshold {threshold}")
    start, cpu = time.perf_counter(), time.process_time()
    reference = exhaustive_rouge_decisions(stream, seeds, threshold)
    exhaustive_s, exhaustive_cpu = time.perf_counter() - start, time.process_time() - cpu
    for floor in (0.5, threshold):
        verdicts, ours_s, ours_cpu, index = run_index(stream, seeds, threshold, floor)
        same = [not v.duplicate for v in verdicts] == [kept for kept, _ in reference]
        scores_ok = all(v.score == best for v, (kept, best) in zip(verdicts, reference)
                        if not kept or best >= floor)
        print(f"    report_floor {floor}: identical decisions: {same}, identical scores: {scores_ok}, "
              f"dropped {sum(v.duplicate for v in verdicts)}")
        assert same and scores_ok, "indexed decisions differ from the exhaustive rule"
        print(f"    exhaustive (rouge-score, pre-tokenized) {exhaustive_s:.2f} s (cpu {exhaustive_cpu:.2f}), "
              f"ours {ours_s:.3f} s (cpu {ours_cpu:.3f}), ratio {exhaustive_s / ours_s:.0f}x "
              f"(cpu {exhaustive_cpu / ours_cpu:.0f}x), "
              f"{index.candidates_verified / len(stream):.1f} LCS checks/item")


def full_stream(instructions: list[str], seeds: list[str], threshold: float) -> None:
    stream = plant_duplicates(instructions, 0.10, seed=2)
    print(f"[2] full stream: {len(stream)} instructions ({len(stream) - len(instructions)} planted), "
          f"threshold {threshold}")
    for floor in (threshold, 0.5):
        verdicts, seconds, cpu, index = run_index(stream, seeds, threshold, floor)
        dropped = sum(v.duplicate for v in verdicts)
        print(f"    report_floor {floor}: {seconds:.2f} s, cpu {cpu:.2f} s ({len(stream) / seconds:,.0f} items/s), "
              f"kept {len(stream) - dropped}, dropped {dropped}, "
              f"{index.candidates_verified / len(stream):.2f} LCS checks/item")


def minhash_throughput(records: list[dict], count: int) -> None:
    rng = random.Random(3)
    texts, planted = [], 0
    for record in records[:count]:
        texts.append(record_text(record))
        if rng.random() < 0.10:  # a copy of the record with one output word changed
            words = record["output"].split() or [""]
            words[rng.randrange(len(words))] = rng.choice(FILLERS)
            texts.append(record_text(dict(record, output=" ".join(words))))
            planted += 1
    index = MinHashIndex(0.8)
    start, cpu = time.perf_counter(), time.process_time()
    dropped = sum(index.check_and_add(str(i), t) is not None for i, t in enumerate(texts))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"[3] MinHash (128 perm, word 3-grams, Jaccard >= 0.8) over {len(texts)} whole records "
          f"({planted} planted copies with one output word changed): {seconds:.2f} s, cpu {cpu:.2f} s "
          f"({len(texts) / seconds:,.0f} records/s), dropped {dropped}")


def stage_over_records(records: list[dict], seeds: list[str], threshold: float) -> None:
    for minhash in (None, 0.8):
        options = SieveOptions(filters=None, rouge_threshold=threshold, minhash_threshold=minhash)
        start, cpu = time.perf_counter(), time.process_time()
        sieved = sieve_records(records, options, seeds=seeds)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"[4] keep/drop stage (selfinstruct dedup, ROUGE-L {threshold}, MinHash {minhash or 'off'}) over "
              f"{len(records)} records + {len(seeds)} seeds: {seconds:.2f} s, cpu {cpu:.2f} s, "
              f"kept {len(sieved.kept)}, drops {dict(sieved.drops)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exhaustive-size", type=int, default=2000)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--minhash-records", type=int, default=20000)
    args = parser.parse_args()
    if not (DATA / "alpaca_data.jsonl").exists():
        sys.exit(f"{DATA / 'alpaca_data.jsonl'} not found: this benchmark needs ../shared/data")
    records = read_jsonl(DATA / "alpaca_data.jsonl")
    seed_file = DATA / "seed_tasks.jsonl"
    seeds = [r["instruction"] for r in read_jsonl(seed_file)] if seed_file.exists() else []
    instructions = [r["instruction"] for r in records]
    compare_with_exhaustive(instructions, seeds, args.exhaustive_size, args.threshold)
    full_stream(instructions, seeds, args.threshold)
    minhash_throughput(records, args.minhash_records)
    stage_over_records(records, seeds, args.threshold)


if __name__ == "__main__":
    main()
