"""Record scoring throughput against a loopback judge with fixed latency, beside a bare AsyncOpenAI client.

    python bench/bench_score.py [--latency-s 0.2] [--concurrency 32] [--records 1000]

The judge runs in its own process. The bare client sends the same prompts (one per record) with
nothing around them: the ceiling on this machine. Ours runs `registry score --scorer judge`'s
library call end to end on a registry version (reading the version, hashing records, looking for
reusable scores, the rubric, the request layer with its journal, rate limiter and budget, parsing
every reply, writing the sealed layer). Prints records per second for both, ours over its request
window (first request journaled to last reply journaled) as a share of the ceiling (target: at
least 0.9), the seconds ours spends outside that window, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare import bare_client  # noqa: E402
import polars as pl  # noqa: E402

import registry  # noqa: E402
from curation.score import JudgeScorer, distinct_items, score_version  # noqa: E402
from modelcalls.endpoint import Endpoint  # noqa: E402
from modelcalls.journal import read_journal  # noqa: E402


def version_of(root: str, n: int):
    body = "The answer explains the point step by step and gives an example. " * 4
    frame = pl.DataFrame({"instruction": [f"Explain topic {i} to a beginner." for i in range(n)],
                          "input": [""] * n, "output": [f"{body} Case {i}." for i in range(n)]})
    return registry.commit(frame, name="bench", lineage={"operation": "import"}, root=root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32])
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "tests.curation.score_server", "--latency-s",
                               str(args.latency_s)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    print(f"loopback record judge {url}, latency {args.latency_s * 1000:.0f} ms, {args.records} records; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'conc':>4} {'bare rec/s':>10} {'ours rec/s':>10} {'ours/bare':>9} {'start+finish s':>14}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for conc in args.concurrency:
                root = str(Path(tmp) / f"reg{conc}")
                version = version_of(root, args.records)
                scorer = JudgeScorer(Endpoint(model="judge", base_url=url, concurrency=conc), api_key="bench")
                prompts = [r["prompts"][0] for r in scorer.requests(distinct_items(registry.open(version.ref,
                                                                                                  root=root)))]
                t0 = time.perf_counter()
                result = score_version(version.ref, scorer, root=root)
                ours = time.perf_counter() - t0
                assert result.scored == args.records, result
                state = read_journal(Path(result.run_dir) / "journal.jsonl")
                window = max(r["time"] for r in state.responses) - min(r["time"] for r in state.requests.values())
                bare = asyncio.run(bare_client(url, prompts, conc, model="judge", max_tokens=512))
                n = len(prompts)
                print(f"{conc:>4} {n / bare:>10.1f} {n / window:>10.1f} {bare / window:>8.0%} {ours - window:>14.2f}",
                      flush=True)
    finally:
        server.kill()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
