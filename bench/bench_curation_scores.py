"""Benchmark: IFD records per second with the built-in SmolLM2-135M on this CPU, batched vs one at a time.

Run from the repository root:
    PYTHONPATH=. python bench/bench_curation_scores.py [--records 96] [--rounds 2] [--batch-size 16] [--threads N]

Reads a seeded sample of ../shared/data/alpaca_data.jsonl (skips with a message when absent). The
model is loaded once. Each round scores the sample batched (batch 16; the scorer groups sequences
of similar length, so a larger sample pads less) and then one record at a time, so both see the
same load; the two results are checked to agree. Prints records/s for each and the ratio, the load
average before and after each run, and where the time goes: tokenisation, the decoder's forward
pass, the LM head (only at the scored positions) and the rest (cross-entropy, batching, Python),
with the decoder's arithmetic rate in GFLOP/s (2 x non-embedding parameters per token in the
batch, padding included, plus 4 x layers x width x length^2 per sequence for attention).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "alpaca_data.jsonl"


def sample(path: Path, n: int, seed: int = 0) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return random.Random(seed).sample(rows, n)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class TimedModel:
    """The two parts of the model that mean_losses calls, each timed, the decoder's work counted."""

    def __init__(self, model):
        config = model.config
        self._model = model
        self._dense = sum(p.numel() for p in model.get_decoder().parameters()) - model.get_input_embeddings().weight.numel()
        self._attention = 4 * config.num_hidden_layers * config.hidden_size
        self.seconds = {"decoder": 0.0, "head": 0.0}
        self.flop = 0
        self.tokens = 0  # positions fed to the decoder, padding included
        self.real = 0  # of which real tokens

    def get_decoder(self):
        return self._timed_decoder

    def get_output_embeddings(self):
        return self._timed_head

    def _timed_decoder(self, input_ids, attention_mask):
        start = time.perf_counter()
        out = self._model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask)
        self.seconds["decoder"] += time.perf_counter() - start
        rows, width = input_ids.shape
        self.flop += 2 * self._dense * rows * width + self._attention * rows * width * width
        self.tokens += rows * width
        self.real += int(attention_mask.sum())
        return out

    def _timed_head(self, hidden):
        start = time.perf_counter()
        out = self._model.get_output_embeddings()(hidden)
        self.seconds["head"] += time.perf_counter() - start
        return out


def run(score, rows: list[dict], batch_size: int, model) -> dict:
    from curation.lm_scores import token_pairs

    timed = TimedModel(model)
    start = time.perf_counter()
    tokenise = 0.0
    values = []
    for b in range(0, len(rows), batch_size):  # one call per batch: one at a time pays its own tokenisation
        part = rows[b:b + batch_size] if batch_size == 1 else rows
        t = time.perf_counter()
        token_pairs(part, score.tokenizer, score.template)  # timed apart: the scorer tokenises again inside
        tokenise += time.perf_counter() - t
        values += score(timed, part, batch_size)
        if batch_size != 1:
            break
    seconds = time.perf_counter() - start - tokenise
    return {"values": values, "seconds": seconds, "tokenise": tokenise, "decoder": timed.seconds["decoder"],
            "head": timed.seconds["head"], "gflops": timed.flop / timed.seconds["decoder"] / 1e9,
            "padding": 1 - timed.real / max(timed.tokens, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=96, help="records in the sample")
    parser.add_argument("--rounds", type=int, default=2, help="batched then one at a time, this many times")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent")
        return 0
    import torch

    from curation.lm_scores import load_model, score_loaded
    from finetune.templates import load_template
    from selfinstruct.errors import ConfigError
    from selfinstruct.local_model import ensure_local_model

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        path = ensure_local_model()
    except ConfigError as e:
        print(f"skipped: {e}")
        return 0
    rows = sample(DATA, args.records)
    model, tokenizer = load_model(path)
    template = load_template("alpaca")

    def score(timed, part, batch_size):
        return score_loaded(timed, tokenizer, part, template=template, kind="ifd", batch_size=batch_size)

    score.tokenizer, score.template = tokenizer, template
    score(TimedModel(model), rows[:2], 2)  # warm-up
    print(f"model {path.name}, torch {torch.__version__}, {torch.get_num_threads()} threads, {len(rows)} Alpaca "
          f"records (seed 0), max_length 512, IFD (two losses per record)")
    print(f"{'':14} {'load before':>16} {'seconds':>8} {'records/s':>9} {'tokenise':>9} {'decoder':>8} "
          f"{'LM head':>8} {'rest':>6} {'GFLOP/s':>8} {'padding':>8}")
    ratios, worst = [], 0.0
    for _ in range(args.rounds):
        results = {}
        for name, size in ((f"batch {args.batch_size}", args.batch_size), ("one at a time", 1)):
            before = load_average()
            r = results[name] = run(score, rows, size, model)
            rest = r["seconds"] - r["decoder"] - r["head"]
            print(f"{name:14} {before:>16} {r['seconds']:8.1f} {len(rows) / r['seconds']:9.2f} {r['tokenise']:9.2f} "
                  f"{r['decoder']:8.1f} {r['head']:8.2f} {rest:6.2f} {r['gflops']:8.1f} {r['padding']:8.1%}")
        one, batched = results["one at a time"], results[f"batch {args.batch_size}"]
        ratios.append(one["seconds"] / batched["seconds"])
        worst = max(worst, max(abs(a - b) for a, b in zip(batched["values"], one["values"]) if a is not None))
    print(f"after: load {load_average()}")
    print(f"speed-up in records/s per round: {', '.join(f'{x:.2f}x' for x in ratios)} (target >= 3x); largest IFD "
          f"difference batched vs one at a time: {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
