"""Benchmark: indexed ROUGE-L dedup vs Alpaca's exhaustive scan, the full 52K stream, MinHash, and the
keep/drop stage over the 52K records as `selfinstruct dedup` runs it.

Run from the repository root:  PYTHONPATH=. python bench/bench_dedup.py [--exhaustive-size 2000]
Reads ../shared/data/alpaca_data.jsonl (and seed_tasks.jsonl when present); prints figures.

At scale:  PYTHONPATH=. python bench/bench_dedup.py --size 1000000 [--baseline main --baseline-size 200000]
           [--tokenizer unicode]
builds its own deterministic stream (`large_stream`: Alpaca's 52,002 instructions in order, then
seeded variants of random ones: 40% one word swapped/inserted/deleted, 40% a third to two thirds
of the words replaced by corpus words, 20% halves of two instructions joined), decides it with
`check_and_add_many` and prints time, peak memory (ru_maxrss) and load average. Then, on the first
--baseline-size texts, it decides with our code one at a time, and batched alternating with the code of
git revision --baseline (default main) in a subprocess (batched too when that code has
`check_and_add_many`), two rounds, and prints the ratios and "decisions identical: True/False" with the
count kept. Before that it checks the first
5,000 texts of a smaller stream against the exhaustive rule with both tokenizers (--exhaustive-check).

One at a time:  PYTHONPATH=. python bench/bench_dedup.py --incremental 100000 [--baseline main]
decides the first N texts of the same stream with `check_and_add` (as generation does), ours and the
baseline's, alternating two rounds, and prints candidates per second and the CPU ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rapidfuzz.distance import LCSseq
from rapidfuzz.process import cdist

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


def large_stream(instructions: list[str], size: int, seed: int = 0) -> list[str]:
    """Alpaca's instructions in order, then seeded variants of random ones until `size` texts:
    40% one word swapped/inserted/deleted (mostly duplicates), 40% a third to two thirds of the
    words replaced by words drawn from the whole corpus (mostly new), 20% the first half of one
    instruction joined to the second half of another."""
    rng = random.Random(seed)
    words = [w for text in instructions for w in text.split()]
    out = list(instructions[:size])
    while len(out) < size:
        base = rng.choice(instructions).split()
        kind = rng.random()
        if kind < 0.4:
            edits = 1
        elif kind < 0.8:
            edits = max(1, round(len(base) * rng.uniform(0.34, 0.67)))
        else:
            other = rng.choice(instructions).split()
            base, edits = base[: max(1, len(base) // 2)] + other[len(other) // 2:], 0
        for _ in range(edits):
            op = rng.random()
            if op < 0.6 and base:
                base[rng.randrange(len(base))] = rng.choice(words)
            elif op < 0.8 or len(base) < 2:
                base.insert(rng.randint(0, len(base)), rng.choice(words))
            else:
                del base[rng.randrange(len(base))]
        out.append(" ".join(base))
    return out


def decide_stream(stream: list[str], seeds: list[str], threshold: float, batched: bool, tokenizer: str = "rouge") -> dict:
    """Decisions only (report_floor = threshold), as `selfinstruct dedup` takes them."""
    index = RougeIndex(threshold, tokenizer, report_floor=threshold)
    start, cpu = time.perf_counter(), time.process_time()
    for seed in seeds:
        index.add(seed)
    if batched:
        verdicts = index.check_and_add_many(stream)
    else:  # the one-at-a-time path, which older revisions also have (generation uses it)
        verdicts = [index.check_and_add(text) for text in stream]
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "kept": [not v.duplicate for v in verdicts], "load": os.getloadavg()}


def exhaustive_kept(stream: list[str], seeds: list[str], threshold: float, tokenizer: str) -> list[bool]:
    """The rule itself: every text scored against every seed and earlier kept text (all pairs' LCS in one
    rapidfuzz `cdist`, F with rouge-score's arithmetic, equal to rouge-score bit for bit)."""
    from records.rouge import fmeasures_from_lcs, token_codes, tokenize  # here: --baseline runs older code

    texts = seeds + stream
    vocab: dict[str, int] = {}
    codes = [token_codes([vocab.setdefault(t, len(vocab)) for t in tokenize(x, tokenizer)]) for x in texts]
    lens = np.array([len(c) for c in codes], dtype=np.int64)
    lcs = cdist(codes, codes, scorer=LCSseq.similarity, dtype=np.int32, workers=-1)
    kept = np.zeros(len(texts), dtype=bool)
    kept[:len(seeds)] = True
    for i in range(len(seeds), len(texts)):
        row = np.flatnonzero(kept[:i] & (lens[:i] > 0))
        score = fmeasures_from_lcs(lcs[i, row], lens[row], np.full(len(row), lens[i])) if lens[i] else np.zeros(0)
        kept[i] = not (score > threshold).any()
    return kept[len(seeds):].tolist()


def exhaustive_check(instructions: list[str], seeds: list[str], size: int, threshold: float) -> None:
    """Batched and one-at-a-time decisions against the exhaustive rule, with both tokenizers, on a
    stream of `size` texts: the first size/2 Alpaca instructions and variants of them (`large_stream`)."""
    stream = large_stream(instructions[:size // 2], size, seed=5)
    for tokenizer in ("rouge", "unicode"):
        reference = exhaustive_kept(stream, seeds, threshold, tokenizer)
        batched, single = RougeIndex(threshold, tokenizer, report_floor=threshold), RougeIndex(
            threshold, tokenizer, report_floor=threshold)
        for seed in seeds:
            batched.add(seed)
            single.add(seed)
        many = [not v.duplicate for v in batched.check_and_add_many(stream)]
        one = [not single.check_and_add(text).duplicate for text in stream]
        print(f"[6] {size:,} texts + {len(seeds)} seeds vs the exhaustive rule, tokenizer {tokenizer}: "
              f"decisions identical: {many == reference} (batched), {one == reference} (one at a time), "
              f"kept {sum(reference):,}, load average {os.getloadavg()[0]:.1f}")


def at_scale(instructions: list[str], seeds: list[str], args: argparse.Namespace) -> None:
    if args.exhaustive_check:
        exhaustive_check(instructions, seeds, args.exhaustive_check, args.threshold)
    stream = large_stream(instructions, args.size)
    result = decide_stream(stream, seeds, args.threshold, batched=True, tokenizer=args.tokenizer)
    kept = sum(result["kept"])
    print(f"[5] {args.size:,} instructions (52,002 Alpaca + seeded variants) + {len(seeds)} seeds, threshold "
          f"{args.threshold}, tokenizer {args.tokenizer}: {result['seconds']:.1f} s, cpu {result['cpu']:.1f} s, peak {result['peak_mb']:.0f} MB, "
          f"kept {kept:,}, dropped {args.size - kept:,}, load average {result['load'][0]:.1f}")
    if args.baseline:
        size = min(args.baseline_size, args.size)
        single = decide_stream(stream[:size], seeds, args.threshold, batched=False, tokenizer=args.tokenizer)
        for round_ in (1, 2):  # alternating, so that both sides see the same load
            ours = decide_stream(stream[:size], seeds, args.threshold, batched=True, tokenizer=args.tokenizer)
            old = run_baseline(args.baseline, size, args.threshold, batched=True, tokenizer=args.tokenizer)
            print(f"    first {size:,}, round {round_}: batched {ours['seconds']:.1f} s (cpu {ours['cpu']:.1f}), revision "
                  f"{args.baseline} {old['mode']} {old['seconds']:.1f} s (cpu {old['cpu']:.1f}), ratio "
                  f"{old['seconds'] / ours['seconds']:.2f}x wall, {old['cpu'] / ours['cpu']:.2f}x cpu, decisions identical: "
                  f"{old['kept'] == ours['kept']}, kept {sum(ours['kept']):,}, load average {ours['load'][0]:.1f} / "
                  f"{old['load'][0]:.1f}")
            assert old["kept"] == ours["kept"], f"decisions differ from revision {args.baseline}"
        print(f"    first {size:,}: one at a time {single['seconds']:.1f} s (cpu {single['cpu']:.1f}), decisions identical "
              f"to batched: {single['kept'] == ours['kept']}, load average {single['load'][0]:.1f}")
        assert single["kept"] == ours["kept"], "one at a time differs from batched"


def one_at_a_time(instructions: list[str], seeds: list[str], args: argparse.Namespace) -> None:
    """Candidates per second one text at a time (`check_and_add`, as generation decides), ours and
    --baseline's on the first --incremental texts of the large stream, alternating, two rounds each.
    Both sides run in a fresh subprocess, so neither carries this process's data (a larger heap makes
    every cycle collection slower, and one at a time runs with the collector on)."""
    size = args.incremental
    root = Path(__file__).resolve().parent.parent
    for round_ in (1, 2):  # ours first, then the baseline first
        if round_ == 1:
            ours = decide_in_subprocess(root, size, args.threshold)
            old = run_baseline(args.baseline, size, args.threshold)
        else:
            old = run_baseline(args.baseline, size, args.threshold)
            ours = decide_in_subprocess(root, size, args.threshold)
        print(f"[7] one at a time, {size:,} texts, round {round_}: ours {size / ours['cpu']:,.0f} candidates/s "
              f"(cpu {ours['cpu']:.1f} s, wall {ours['seconds']:.1f} s), revision {args.baseline} "
              f"{size / old['cpu']:,.0f}/s (cpu {old['cpu']:.1f} s, wall {old['seconds']:.1f} s), ratio "
              f"{old['cpu'] / ours['cpu']:.2f}x cpu, decisions identical: {old['kept'] == ours['kept']}, "
              f"kept {sum(ours['kept']):,}, load average {ours['load'][0]:.1f} / {old['load'][0]:.1f}")


def run_baseline(revision: str, size: int, threshold: float, batched: bool = False, tokenizer: str = "rouge") -> dict:
    """Decide the first `size` texts with the code of `revision`, in a subprocess: batched when asked
    and the revision has `check_and_add_many`, else one at a time."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(["git", "-C", str(root), "archive", revision], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        return decide_in_subprocess(Path(tree), size, threshold, batched, tokenizer)


def decide_in_subprocess(tree: Path, size: int, threshold: float, batched: bool = False,
                         tokenizer: str = "rouge") -> dict:
    """Decide the first `size` texts with the code under `tree`, in a fresh process."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        subprocess.run([sys.executable, __file__, "--decide-only", str(size), "--threshold", str(threshold),
                        "--result", str(out), "--tokenizer", tokenizer] + (["--batched"] if batched else []), check=True,
                       env={**os.environ, "PYTHONPATH": str(tree)})
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exhaustive-size", type=int, default=2000)
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--minhash-records", type=int, default=20000)
    parser.add_argument("--size", type=int, help="only the large-stream run, with this many texts")
    parser.add_argument("--baseline", default="main",
                        help="git revision to compare with on the first --baseline-size texts ('' for none)")
    parser.add_argument("--baseline-size", type=int, default=200_000)
    parser.add_argument("--tokenizer", default="rouge", choices=("rouge", "unicode"),
                        help="with --size: the ROUGE tokenizer of the large-stream runs")
    parser.add_argument("--exhaustive-check", type=int, default=5000,
                        help="with --size: first compare with the exhaustive rule on this many texts (0: skip)")
    parser.add_argument("--incremental", type=int,
                        help="only compare one-at-a-time speed with --baseline on this many texts")
    parser.add_argument("--decide-only", type=int, help=argparse.SUPPRESS)  # the baseline subprocess
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--batched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (DATA / "alpaca_data.jsonl").exists():
        sys.exit(f"{DATA / 'alpaca_data.jsonl'} not found: this benchmark needs ../shared/data")
    records = read_jsonl(DATA / "alpaca_data.jsonl")
    seed_file = DATA / "seed_tasks.jsonl"
    seeds = [r["instruction"] for r in read_jsonl(seed_file)] if seed_file.exists() else []
    instructions = [r["instruction"] for r in records]
    if args.decide_only:
        batched = args.batched and hasattr(RougeIndex, "check_and_add_many")
        result = decide_stream(large_stream(instructions, args.decide_only), seeds, args.threshold, batched=batched,
                               tokenizer=args.tokenizer)
        result["mode"] = "batched" if batched else "one at a time"
        Path(args.result).write_text(json.dumps(result))
        return
    if args.incremental:
        one_at_a_time(instructions, seeds, args)
        return
    if args.size:
        at_scale(instructions, seeds, args)
        return
    compare_with_exhaustive(instructions, seeds, args.exhaustive_size, args.threshold)
    full_stream(instructions, seeds, args.threshold)
    minhash_throughput(records, args.minhash_records)
    stage_over_records(records, seeds, args.threshold)


if __name__ == "__main__":
    main()
