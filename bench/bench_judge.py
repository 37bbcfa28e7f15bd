"""Judge throughput against a loopback judge with fixed latency, beside a bare AsyncOpenAI client.

    python bench/bench_judge.py [--latency-s 0.2] [--concurrency 32] [--items 400]

The judge server runs in its own process. The bare client sends the same prompts (both orders of
every item) with nothing else around them: the ceiling on this machine. Ours runs `eval judge`'s
library call end to end (pairing, prompts, the generator's backend with retries and rate limiter,
the journal, verdict parsing, statistics with 2000 bootstrap resamples, annotations.json). Prints
comparisons per second for both, ours over its request window (first request journaled to last
reply journaled) as a share of the ceiling (target: at least 0.8), and the seconds ours spends
outside that window (reading and pairing answers, loading the tokenizer, statistics, writing files).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare import bare_client  # noqa: E402

from evaluation.judge import JudgeConfig, plan_requests  # noqa: E402
from evaluation.outputs import pair_outputs, read_model_outputs  # noqa: E402
from evaluation.pairwise import judge_answer_files  # noqa: E402
from evaluation.verdicts import load_judge_template  # noqa: E402
from modelcalls.journal import read_journal  # noqa: E402


def write_answers(folder: Path, n: int) -> tuple[Path, Path]:
    """Two answer files of n items; the answers are a few hundred characters, like short real ones."""
    body = "This answer explains the point step by step and gives an example. " * 5
    for name, shift in (("a", 0), ("b", 1)):
        rows = [{"instruction": f"Question {i}: explain topic {i} to a beginner.", "generator": f"model-{name}",
                 "output": f"{body} quality {(i + shift) % 3}."} for i in range(n)]
        (folder / f"{name}.json").write_text(json.dumps(rows))
    return folder / "a.json", folder / "b.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32])
    parser.add_argument("--items", type=int, default=400)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "tests.judge_server", "--latency-s", str(args.latency_s)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    print(f"loopback judge {url}, latency {args.latency_s * 1000:.0f} ms, {args.items} items x 2 orders")
    print(f"{'conc':>4} {'bare cmp/s':>10} {'ours cmp/s':>10} {'ours/bare':>9} {'start+finish s':>14}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            a, b = write_answers(Path(tmp), args.items)
            pairs, _ = pair_outputs(read_model_outputs(a), read_model_outputs(b))
            prompts = [r["prompts"][0] for r in plan_requests(pairs, load_judge_template())]
            for conc in args.concurrency:
                cfg = JudgeConfig("judge", base_url=url, concurrency=conc)
                t0 = time.perf_counter()
                results = judge_answer_files(a, b, cfg, Path(tmp) / f"out{conc}", api_key="bench")
                ours = time.perf_counter() - t0
                assert results["items_scored"] == args.items, results
                state = read_journal(Path(tmp) / f"out{conc}" / "judge.run" / "journal.jsonl")
                window = max(r["time"] for r in state.responses) - min(r["time"] for r in state.requests.values())
                bare = asyncio.run(bare_client(url, prompts, conc, model="judge", max_tokens=1024))
                n = len(prompts)
                print(f"{conc:>4} {n / bare:>10.1f} {n / window:>10.1f} {bare / window:>8.0%} {ours - window:>14.2f}",
                      flush=True)
    finally:
        server.kill()


if __name__ == "__main__":
    main()
