"""Generation throughput against a loopback server with fixed latency, beside a bare AsyncOpenAI client.

    python bench/bench_generate.py [--latency-s 0.2] [--concurrency 1 8 32 64]

The server runs in its own process. For each concurrency, the bare client sends the same number of
chat requests as our run needs (the ceiling on this machine); ours runs `generate` (journal,
parsing, filters, ROUGE-L dedup, rate limiter) until the kept target is met. Prints requests/s and
records kept/s over the request window (first request sent to last response journaled), ours as a
share of the ceiling, and the seconds outside that window (loading seeds and the tokenizer before,
nearest-instruction annotation and writing the run's files after).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare import bare_client  # noqa: E402

from modelcalls.backends import build_backend  # noqa: E402
from selfinstruct.config import GenerateConfig  # noqa: E402
from selfinstruct.generate import generate  # noqa: E402
from modelcalls.journal import read_journal  # noqa: E402
from selfinstruct.prompts import load_template, render_prompt  # noqa: E402
from selfinstruct.seeds import load_seeds  # noqa: E402

SEEDS = ROOT / "seeds" / "default.jsonl"


def ours(url: str, concurrency: int, n_kept: int, run_dir: str) -> tuple[float, float, int, int]:
    """(request window s, whole call s, requests, kept). The window runs from the first request
    sent to the last response journaled; the rest is start-up and writing the run's files."""
    cfg = GenerateConfig(num_instructions=n_kept, model="loopback", base_url=url, seeds=str(SEEDS),
                         concurrency=concurrency)
    backend = build_backend(cfg, api_key="bench")
    t0 = time.perf_counter()
    result = asyncio.run(generate(cfg, backend, run_dir=run_dir))
    total = time.perf_counter() - t0
    state = read_journal(Path(run_dir) / "journal.jsonl")
    window = max(r["time"] for r in state.responses) - min(r["time"] for r in state.requests.values())
    return window, total, result.usage.requests, len(result.records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--requests-per-slot", type=int, default=6, help="run length: requests per concurrent slot")
    args = parser.parse_args()
    alpaca = ROOT.parent / "shared" / "data" / "alpaca_data.jsonl"
    serve = ["--records", str(alpaca)] if alpaca.exists() else []
    server = subprocess.Popen([sys.executable, "-m", "tests.loopback_server", "--latency-s", str(args.latency_s),
                               *serve], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    what = "real Alpaca tasks (../shared/data)" if serve else "synthetic tasks (../shared absent)"
    seeds = load_seeds(SEEDS)
    prompt = render_prompt(load_template(), [t.example for t in seeds.tasks[:3]])
    print(f"loopback server {url}, latency {args.latency_s * 1000:.0f} ms, replies of 20 {what}")
    print(f"{'conc':>4} {'bare req/s':>10} {'ours req/s':>10} {'ours/bare':>9} {'kept/s':>8} {'requests':>8} "
          f"{'kept':>6} {'start+finish s':>14}")
    try:
        for conc in args.concurrency:
            with tempfile.TemporaryDirectory() as tmp:
                # size our run so it needs about requests_per_slot requests per slot
                target = max(20, conc * args.requests_per_slot * 15)
                window, total, n_req, n_kept = ours(url, conc, target, tmp)
            t_bare = asyncio.run(bare_client(url, [prompt] * n_req, conc, model="loopback", max_tokens=3072,
                                                 temperature=None))
            bare_rps, ours_rps = n_req / t_bare, n_req / window
            print(f"{conc:>4} {bare_rps:>10.1f} {ours_rps:>10.1f} {ours_rps / bare_rps:>8.0%} {n_kept / window:>8.0f}"
                  f" {n_req:>8} {n_kept:>6} {total - window:>14.2f}", flush=True)
    finally:
        server.kill()


if __name__ == "__main__":
    main()
