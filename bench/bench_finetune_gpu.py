"""GPU benchmark: a ~1B Llama (random init, bf16) on real Alpaca records, ours vs Trainer.

    PYTHONPATH=. python bench/bench_finetune_gpu.py --steps 30          # needs one CUDA GPU
    PYTHONPATH=. python bench/bench_finetune_gpu.py --dry-run            # CPU: config + plan

Both sides run Alpaca's recipe (global batch 128, lr 2e-5, cosine, 3% warmup, bf16 autocast
over fp32 master weights, tf32) for `--steps` optimizer steps on the same model and tokens.
The baseline is transformers' Trainer with Alpaca's collator (4 random examples per
micro-batch, padded to the longest). Ours uses recipes/llama-1b.yaml: packed 2,048-token rows.
Throughput is measured after `--warmup` steps; MFU = real tokens/s x FLOPs per token / peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPACA = ROOT.parent / "shared" / "data" / "alpaca_data.jsonl"
# TinyLlama-1.1B's shape: hidden 2048, 22 layers, 32 heads (4 KV heads), MLP 5632, vocab 32000.
SHAPE = {"hidden": 2048, "layers": 22, "heads": 32, "kv_heads": 4, "intermediate": 5632}


def load_alpaca(n: int | None) -> list[dict]:
    if not ALPACA.exists():
        sys.exit(f"{ALPACA} is absent: this benchmark needs the Alpaca records in ../shared/data")
    with ALPACA.open() as f:
        rows = [json.loads(line) for line in f]
    return rows[:n] if n else rows


def build_model_dir(records, folder: Path, vocab: int, weights: bool) -> Path:
    """BPE tokenizer trained on the records + a random ~1B Llama (config only when not weights)."""
    from transformers import LlamaConfig

    from finetune.templates import load_template
    from finetune.tiny import build_llama, build_tokenizer

    t = load_template("alpaca")
    tok = build_tokenizer([t.render(r["instruction"], r["input"]) + r["output"] for r in records],
                          vocab_size=vocab)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(folder)
    if weights:
        model = build_llama(len(tok), max_positions=4096, **SHAPE)
        model.config.pad_token_id = tok.pad_token_id
        model.save_pretrained(folder)
    else:
        LlamaConfig(vocab_size=len(tok), hidden_size=SHAPE["hidden"], num_hidden_layers=SHAPE["layers"],
                    num_attention_heads=SHAPE["heads"], num_key_value_heads=SHAPE["kv_heads"],
                    intermediate_size=SHAPE["intermediate"], max_position_embeddings=4096,
                    tie_word_embeddings=False).save_pretrained(folder)
    return folder


def run_trainer(records, model_dir: Path, out: Path, steps: int, warmup: int, attn: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    from finetune.encode import IGNORE_INDEX, encode_records
    from finetune.model import load_tokenizer
    from finetune.templates import load_template

    tok = load_tokenizer(str(model_dir), 512)
    examples = encode_records(records, tok, load_template("alpaca"), 512).examples
    counts = {"real": 0, "slots": 0}
    marks = []

    def collate(batch):  # stanford_alpaca's DataCollatorForSupervisedDataset
        ids = torch.nn.utils.rnn.pad_sequence([torch.tensor(e.input_ids) for e in batch],
                                              batch_first=True, padding_value=tok.pad_token_id)
        labels = torch.nn.utils.rnn.pad_sequence([torch.tensor(e.labels) for e in batch],
                                                 batch_first=True, padding_value=IGNORE_INDEX)
        counts["real"] += sum(len(e) for e in batch)
        counts["slots"] += ids.numel()
        return {"input_ids": ids, "labels": labels, "attention_mask": ids.ne(tok.pad_token_id)}

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            torch.cuda.synchronize()
            marks.append((time.perf_counter(), counts["real"], counts["slots"]))

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=attn)
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=4, gradient_accumulation_steps=32,
        learning_rate=2e-5, weight_decay=0.0, warmup_steps=0.03, lr_scheduler_type="cosine",
        max_steps=steps, bf16=True, tf32=True, logging_steps=1, save_strategy="no", report_to=[],
        seed=42, disable_tqdm=True, remove_unused_columns=False)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collate,
                      callbacks=[Clock()])
    trainer.train()
    (t0, r0, s0), (t1, r1, s1) = marks[warmup - 1], marks[-1]
    return {"name": "transformers Trainer (Alpaca collator)", "real_tokens_per_s": (r1 - r0) / (t1 - t0),
            "padded_share": 1 - (r1 - r0) / (s1 - s0),
            "memory_gb": torch.cuda.max_memory_allocated() / 1024**3}


def run_ours(data: Path, model_dir: Path, out: Path, steps: int, warmup: int, attn: str) -> dict:
    from finetune.config import load_config
    from finetune.train import train

    cfg = load_config("llama-1b", [f"max_steps={steps}", "log_every=1", "save_every=0",
                                   "eval_fraction=0", f"attn_implementation={attn}"],
                      dataset=str(data), model=str(model_dir), output=str(out))
    train(cfg)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "loss" in r][warmup:]
    seconds = sum(r["seconds"] for r in rows)
    real, slots = sum(r["real_tokens"] for r in rows), sum(r["slots"] for r in rows)
    return {"name": "ours (llama-1b recipe: packed 2,048-token rows)", "real_tokens_per_s": real / seconds,
            "padded_share": 1 - real / slots, "memory_gb": max(r["memory_gb"] for r in rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=None, help="First N records (default: all).")
    parser.add_argument("--steps", type=int, default=30, help="Optimizer steps per side.")
    parser.add_argument("--warmup", type=int, default=3, help="Steps left out of the timing.")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--attn", default="sdpa", help="sdpa, flash_attention_2, flex_attention")
    parser.add_argument("--dry-run", action="store_true", help="Print the config and plan only.")
    args = parser.parse_args()
    import torch

    from finetune.config import load_config
    from finetune.flops import detect_device, shape_of
    from finetune.plan import format_plan, plan

    records = load_alpaca(args.records if not args.dry_run else (args.records or 2000))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "alpaca.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in records))
        model_dir = build_model_dir(records, tmp / "llama-1b", args.vocab, weights=not args.dry_run)
        from transformers import AutoConfig

        shape = shape_of(AutoConfig.from_pretrained(model_dir))
        cfg = load_config("llama-1b", [f"max_steps={args.steps}"], dataset=str(data), model=str(model_dir))
        print(f"model: Llama {shape.params / 1e9:.2f} B parameters {SHAPE}, vocab {shape.vocab}; "
              f"{len(records)} Alpaca records; {args.steps} steps, {args.warmup} warm-up")
        print(f"recipe llama-1b: {json.dumps({k: v for k, v in cfg.to_dict().items() if v not in (None, {}, [])})}")
        planned = plan(cfg, gpu="h100", gpus=1, mfu=0.40)
        fpt = planned["flops_per_token"]  # 6N + attention at the records' own lengths
        print(format_plan(planned))
        if args.dry_run:
            return
        if not torch.cuda.is_available():
            sys.exit("no CUDA device: run with --dry-run on CPU")
        device, peak = detect_device()
        results = [run_trainer(records, model_dir, tmp / "trainer", args.steps, args.warmup, args.attn),
                   run_ours(data, model_dir, tmp / "ours", args.steps, args.warmup, args.attn)]
    print(f"device: {device}, peak {peak} TFLOP/s (bf16 dense), torch {torch.__version__}")
    print(f"{'run':<50} {'real tok/s':>11} {'MFU':>6} {'padded':>7} {'mem GiB':>8}")
    for r in results:
        mfu = r["real_tokens_per_s"] * fpt / (peak * 1e12) if peak else float("nan")
        print(f"{r['name']:<50} {r['real_tokens_per_s']:>11.0f} {mfu:>6.1%} {r['padded_share']:>7.1%} "
              f"{r['memory_gb']:>8.1f}")
    print(f"speed-up (real tokens/s): {results[1]['real_tokens_per_s'] / results[0]['real_tokens_per_s']:.2f}x")


if __name__ == "__main__":
    main()
