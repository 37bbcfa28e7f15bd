"""plan(config, gpu, gpus) -> dict: what a run will cost, without training.

Counts tokens with the model's own tokenizer, builds the real batch plan, and turns it into
steps, FLOPs, memory per GPU and the time at a stated MFU.
"""

from __future__ import annotations

import dataclasses

from finetune.batching import padding_stats, plan_epoch, total_steps
from finetune.config import FinetuneConfig
from finetune.flops import DEVICES, cpu_device, flops_per_token, memory_per_gpu, shape_of
from finetune.prepare import prepare_data

# Stanford's release post: the initial run took 3 hours on 8 A100 80GB (crfm.stanford.edu,
# 2023-03-13); compare a plan of the same data and hardware against it.
ALPACA_REFERENCE = {"hours": 3.0, "gpus": 8, "gpu": "a100-80gb"}
# Work that would have kept Alpaca's GPUs under 1% busy says nothing about their run: not printed.
ALPACA_COMPARABLE_MFU = 0.01


def plan(config: FinetuneConfig, gpu: str = "a100-80gb", gpus: int = 8, mfu: float = 0.40) -> dict:
    """Examples, tokens, padding, steps, FLOPs, memory per GPU and time at `mfu` on `gpus`."""
    from transformers import AutoConfig

    if gpu != "cpu" and gpu not in DEVICES:
        raise ValueError(f"unknown gpu {gpu!r}; known: cpu, {', '.join(DEVICES)}")
    if not 0 < mfu <= 1:
        raise ValueError(f"mfu must be in (0, 1], got {mfu}")
    device = cpu_device() if gpu == "cpu" else DEVICES[gpu]
    data = prepare_data(config, need_weights=False)
    lengths = [len(e) for e in data.train]
    shape = shape_of(AutoConfig.from_pretrained(config.model))
    shape = dataclasses.replace(shape, vocab=max(shape.vocab, len(data.tokenizer)))
    epoch0 = plan_epoch(lengths, config, gpus, 0)
    steps = total_steps(len(epoch0), config.epochs)
    pad = padding_stats(epoch0, lengths)
    context = sum(n * n for n in lengths) / sum(lengths)
    fpt = flops_per_token(shape, context)
    real_total = pad["real_tokens"] * config.epochs
    slots_total = pad["slots"] * config.epochs
    widest = max(len(mb.rows) * max((sum(lengths[i] for i in r) for r in mb.rows), default=0)
                 for step in epoch0 for share in step for mb in share)
    memory = memory_per_gpu(shape, gpus, sharded=bool(config.fsdp) and gpus > 1,
                            tokens_per_micro_batch=widest,
                            checkpointing=config.gradient_checkpointing, lora=bool(config.lora))
    rate = gpus * device.peak_tflops * 1e12 * mfu
    result = {
        "dataset": data.source.ref, "content_hash": data.source.content_hash,
        "model": config.model, "architecture": data.architecture,
        "parameters": shape.params, "recipe": config.recipe,
        "records": data.records, "train_examples": len(data.train), "eval_examples": len(data.eval),
        "dropped": dict(data.dropped),
        "tokens_per_example_mean": sum(lengths) / len(lengths), "tokens_per_example_max": max(lengths),
        "epochs": config.epochs,
        "real_tokens_per_epoch": pad["real_tokens"], "slots_per_epoch": pad["slots"],
        "padded_share": pad["padded_share"],
        "padded_share_by_batching": compare_batching(lengths, config, gpus),
        "steps_per_epoch": len(epoch0), "total_steps": steps,
        "micro_batches_per_step": len(epoch0[0][0]),
        "flops_per_token": fpt, "model_flops": real_total * fpt,
        "hardware_flops_with_padding": slots_total * fpt,
        "gpu": gpu, "gpus": gpus, "peak_tflops_per_gpu": device.peak_tflops,
        "memory_gb_per_gpu": memory, "gpu_memory_gb": device.memory_gb,
        "fits": memory["total"] <= device.memory_gb,
        "mfu": mfu, "hours_at_mfu": real_total * fpt / rate / 3600,
        "hours_at_mfu_counting_padding": slots_total * fpt / rate / 3600,
    }
    ref = ALPACA_REFERENCE
    result["alpaca_reference"] = {
        **ref, "implied_mfu": real_total * fpt / (ref["hours"] * 3600 * ref["gpus"]
                                                  * DEVICES[ref["gpu"]].peak_tflops * 1e12),
        "implied_real_tokens_per_s_per_gpu": real_total / (ref["hours"] * 3600 * ref["gpus"]),
    }
    return result


def compare_batching(lengths: list[int], config: FinetuneConfig, gpus: int) -> dict[str, float]:
    """Padded share per epoch for Alpaca's random batches, length grouping and packing."""
    variants = {
        "random": {"batching": "random", "packing": False},
        "grouped": {"batching": "grouped", "packing": False},
        "packed": {"packing": True, "pack_unit": "examples"},
    }
    out = {}
    for name, change in variants.items():
        cfg = dataclasses.replace(config, **change)
        out[name] = padding_stats(plan_epoch(lengths, cfg, gpus, 0), lengths)["padded_share"]
    return out


def format_plan(p: dict) -> str:
    """The plan as aligned text lines."""
    mem = p["memory_gb_per_gpu"]
    ref = p["alpaca_reference"]
    by = ", ".join(f"{k} {v:.1%}" for k, v in p["padded_share_by_batching"].items())
    lines = [
        ("dataset", f"{p['dataset']} ({p['content_hash'][:19]}...)"),
        ("model", f"{p['model']} ({p['architecture']}, {p['parameters'] / 1e9:.2f} B parameters)"),
        ("examples", f"{p['train_examples']:,} train, {p['eval_examples']:,} held out, "
                     f"dropped {p['dropped'] or 'none'}"),
        ("tokens / example", f"mean {p['tokens_per_example_mean']:.1f}, max {p['tokens_per_example_max']}"),
        ("tokens / epoch", f"{p['real_tokens_per_epoch']:,} real in {p['slots_per_epoch']:,} slots "
                           f"({p['padded_share']:.1%} padding)"),
        ("padding by batching", by),
        ("steps", f"{p['steps_per_epoch']} / epoch x {p['epochs']:g} = {p['total_steps']} "
                  f"({p['micro_batches_per_step']} micro-batches / step / GPU)"),
        ("FLOPs", f"{p['flops_per_token']:.3g} / token; {p['model_flops']:.3g} model, "
                  f"{p['hardware_flops_with_padding']:.3g} counting padding"),
        ("memory / GPU (GiB)", f"weights {mem['weights']:.1f}, grads {mem['grads']:.1f}, optimizer "
                               f"{mem['optimizer']:.1f}, activations {mem['activations']:.1f} = "
                               f"{mem['total']:.1f} of {p['gpu_memory_gb']} "
                               f"({'fits' if p['fits'] else 'does NOT fit'})"),
        ("time", f"{p['hours_at_mfu'] * 60:.1f} min on {p['gpus']} x {p['gpu']} at {p['mfu']:.0%} MFU "
                 f"({p['hours_at_mfu_counting_padding'] * 60:.1f} min if padding is computed)"),
    ]
    if ref["implied_mfu"] >= ALPACA_COMPARABLE_MFU:
        lines.append(("Alpaca's 2023 run", f"{ref['hours']:g} h on {ref['gpus']} x {ref['gpu']} for this work = "
                                           f"{ref['implied_mfu']:.1%} MFU, "
                                           f"{ref['implied_real_tokens_per_s_per_gpu']:.0f} real tokens/s/GPU"))
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)
