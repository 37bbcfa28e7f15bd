"""CPU benchmark: our whole `finetune run` command against transformers' Trainer.train() alone.

    PYTHONPATH=. python bench/bench_finetune_cpu.py [--records 600] [--repeats 3] [--threads 2]

Both sides train the same random Llama (hidden 256, 4 layers, a 4,000-token BPE trained on the
records; 5.2 M parameters) on the same first N Alpaca records, one epoch, with Alpaca's recipe as
a user gets it: `--recipe alpaca-7b` (global batch 128 = 4 a micro-batch x 32 accumulation on one
process, AdamW lr 2e-5, no weight decay, cosine with 3% warmup, clip 1.0, fp32 on CPU, seed 42).
Both average the loss over every target token of the global batch (the Trainer's behaviour since
transformers 4.46; ours with loss_averaging=token), so each record's loss is over its own output
tokens on both sides.

- Ours: `python -m selfinstruct finetune run --recipe alpaca-7b epochs=1 loss_averaging=token
  batching=grouped` as a subprocess, timed from start to exit: interpreter, imports, reading and
  tokenising, the model, every step, logging, export, model card.
- The Trainer: a subprocess that builds the Trainer with Alpaca's collator (random micro-batches
  padded to the longest, -100 label padding) and times trainer.train() alone: no imports, no
  tokenisation, no model loading, no saving.

Runs alternate (Trainer, ours) --repeats times, each with the load average read before it. Prints
each pair's ratio (Trainer seconds / our seconds), real (non-pad) tokens/s, the padded share of
token slots, and our command's wall seconds per phase (metrics.jsonl's `phase_seconds`; start-up
is the rest: interpreter, command-line imports, configuration, exit).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPACA = ROOT.parent / "shared" / "data" / "alpaca_data.jsonl"
OURS = ["--recipe", "alpaca-7b", "epochs=1", "loss_averaging=token", "batching=grouped"]
PHASES = ["start-up", "imports", "data", "model", "collate", "forward_backward", "optimizer", "logging",
          "evaluation", "checkpointing", "export", "model_card"]


def load_alpaca(n: int) -> list[dict]:
    if not ALPACA.exists():
        sys.exit(f"{ALPACA} is absent: this benchmark needs the Alpaca records in ../shared/data")
    with ALPACA.open() as f:
        return [json.loads(line) for _, line in zip(range(n), f)]


def build_model(records, folder: Path, hidden: int, layers: int, vocab: int) -> Path:
    from finetune.templates import load_template
    from finetune.tiny import save_tiny_model

    t = load_template("alpaca")
    texts = [t.render(r["instruction"], r["input"]) + r["output"] for r in records]
    return save_tiny_model(folder / "model", texts, vocab_size=vocab, hidden=hidden, layers=layers,
                           heads=hidden // 64, kv_heads=hidden // 64, intermediate=int(hidden * 8 / 3))


def trainer_child(data: Path, model_dir: Path, out: Path, threads: int) -> None:
    """Run in its own process: transformers' Trainer with Alpaca's collator; prints JSON."""
    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from finetune.encode import IGNORE_INDEX, encode_records
    from finetune.model import load_tokenizer
    from finetune.templates import load_template

    torch.set_num_threads(threads)
    records = [json.loads(line) for line in data.read_text().splitlines()]
    tok = load_tokenizer(str(model_dir), 512)
    examples = encode_records(records, tok, load_template("alpaca"), 512).examples
    counts = {"real": 0, "slots": 0}

    def collate(batch):  # DataCollatorForSupervisedDataset, as in stanford_alpaca train.py
        ids = [torch.tensor(e.input_ids) for e in batch]
        labels = [torch.tensor(e.labels) for e in batch]
        ids = torch.nn.utils.rnn.pad_sequence(ids, batch_first=True, padding_value=tok.pad_token_id)
        labels = torch.nn.utils.rnn.pad_sequence(labels, batch_first=True, padding_value=IGNORE_INDEX)
        counts["real"] += sum(len(e) for e in batch)
        counts["slots"] += ids.numel()
        return {"input_ids": ids, "labels": labels, "attention_mask": ids.ne(tok.pad_token_id)}

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=4, gradient_accumulation_steps=32,
        learning_rate=2e-5, weight_decay=0.0, warmup_steps=0.03, lr_scheduler_type="cosine",
        num_train_epochs=1, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
        seed=42, disable_tqdm=True, remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collate)
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "real_tokens": counts["real"], "slots": counts["slots"],
                      "final_loss": result.training_loss, "steps": result.global_step}))


def run_trainer(data: Path, model_dir: Path, out: Path, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--trainer-child", str(data), str(model_dir), str(out),
           "--threads", str(threads)]
    done = subprocess.run(cmd, env=child_env(threads), capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"the Trainer run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_ours(data: Path, model_dir: Path, out: Path, threads: int, overrides: list[str]) -> dict:
    cmd = [sys.executable, "-m", "selfinstruct", "finetune", "run", "--dataset", str(data),
           "--model", str(model_dir), "-o", str(out), *OURS, *overrides]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=child_env(threads), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"our command failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    phases = rows[-1]["phase_seconds"]
    phases = {"start-up": seconds - sum(phases.values()), **phases}
    return {"seconds": seconds, "real_tokens": sum(r["real_tokens"] for r in steps),
            "slots": sum(r["slots"] for r in steps), "final_loss": steps[-1]["loss"], "steps": len(steps),
            "phases": phases}


def child_env(threads: int) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(threads),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=2, help="torch threads on both sides.")
    parser.add_argument("--repeats", type=int, default=3, help="Alternate the pair of runs this many times.")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="An extra KEY=VALUE for our command (e.g. packing=true).")
    parser.add_argument("--trainer-child", nargs=3, metavar=("DATA", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trainer_child:
        trainer_child(*map(Path, args.trainer_child), args.threads)
        return
    records = load_alpaca(args.records)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "alpaca.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in records))
        model_dir = build_model(records, tmp, args.hidden, args.layers, args.vocab)
        import torch

        params = sum(p.numel() for p in __import__("transformers").AutoModelForCausalLM
                     .from_pretrained(model_dir).parameters())
        print(f"model: Llama hidden {args.hidden}, {args.layers} layers, vocab {args.vocab}, "
              f"{params / 1e6:.1f} M parameters; {len(records)} Alpaca records, 1 epoch, "
              f"{args.threads} threads, torch {torch.__version__}, {os.cpu_count()} CPUs")
        print(f"ours: selfinstruct finetune run {' '.join(OURS + args.override)}")
        pairs = []
        for k in range(args.repeats):
            load_t = load()
            trainer = run_trainer(data, model_dir, tmp / f"trainer{k}", args.threads)
            load_o = load()
            ours = run_ours(data, model_dir, tmp / f"ours{k}", args.threads, args.override)
            pairs.append((load_t, trainer, load_o, ours))
            print(f"  repeat {k + 1}: Trainer {trainer['seconds']:.1f} s (load {load_t:.2f}), ours "
                  f"{ours['seconds']:.1f} s (load {load_o:.2f}): {trainer['seconds'] / ours['seconds']:.2f}x",
                  flush=True)
    report(pairs)


def report(pairs: list) -> None:
    print(f"\n{'repeat':<7} {'load T/ours':>12} {'Trainer s':>10} {'ours s':>8} {'ratio':>6} "
          f"{'T tok/s':>8} {'ours tok/s':>10} {'T pad':>6} {'ours pad':>8} {'T loss':>7} {'ours loss':>9}")
    for k, (load_t, t, load_o, o) in enumerate(pairs, 1):
        print(f"{k:<7} {load_t:>5.2f}/{load_o:<6.2f} {t['seconds']:>10.1f} {o['seconds']:>8.1f} "
              f"{t['seconds'] / o['seconds']:>5.2f}x {t['real_tokens'] / t['seconds']:>8.0f} "
              f"{o['real_tokens'] / o['seconds']:>10.0f} {1 - t['real_tokens'] / t['slots']:>6.1%} "
              f"{1 - o['real_tokens'] / o['slots']:>8.1%} {t['final_loss']:>7.3f} {o['final_loss']:>9.3f}")
    print("\nour command, wall seconds per phase:")
    print(f"{'phase':<18}" + "".join(f"{'#' + str(k):>8}" for k in range(1, len(pairs) + 1)) + f"{'mean':>8}")
    for phase in PHASES + ["total"]:
        vals = [o["seconds"] if phase == "total" else o["phases"].get(phase, 0.0) for *_, o in pairs]
        print(f"{phase:<18}" + "".join(f"{v:>8.2f}" for v in vals) + f"{sum(vals) / len(vals):>8.2f}")


if __name__ == "__main__":
    main()
