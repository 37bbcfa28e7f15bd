"""A local transformers checkpoint, in-process. Only local paths: nothing is downloaded."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selfinstruct.backends.base import Completion, Decoding, Response
from selfinstruct.errors import BackendError


class TransformersBackend:
    """Generates with `model.generate` on a local checkpoint; prompts of a request run as one batch."""

    name = "transformers"
    provider = "transformers"

    def __init__(self, model_path: str, *, prompts_per_request: int = 1, device: str | None = None,
                 chat_template: bool | None = None):
        path = Path(model_path)
        if not (path / "config.json").exists():
            raise BackendError(f"{model_path}: not a local transformers checkpoint (no config.json); "
                               "the transformers backend never downloads from a hub")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model = str(path)
        self.endpoint_host = "local"
        self.prompts_per_request = prompts_per_request
        self._torch = torch
        self._tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._tok.padding_side = "left"  # decoder-only batches pad on the left
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        self._model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=dtype).to(device).eval()
        self._device = device
        # Instruction-tuned checkpoints ship a chat template; base models continue raw text.
        self._chat = bool(self._tok.chat_template) if chat_template is None else chat_template
        self._lock = asyncio.Lock()  # one generate() at a time on one model

    def _encode(self, prompts: list[str]):
        if self._chat:
            prompts = [self._tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                                     add_generation_prompt=True) for p in prompts]
        return self._tok(prompts, return_tensors="pt", padding=True).to(self._device)

    def _generate(self, prompts: list[str], decoding: Decoding) -> Response:
        torch = self._torch
        batch = self._encode(prompts)
        if decoding.seed is not None:
            torch.manual_seed(decoding.seed)
        sample = decoding.temperature > 0
        with torch.no_grad():
            out = self._model.generate(
                **batch, max_new_tokens=decoding.max_tokens, do_sample=sample,
                temperature=decoding.temperature if sample else None, top_p=decoding.top_p if sample else None,
                stop_strings=list(decoding.stop) or None, tokenizer=self._tok, pad_token_id=self._tok.pad_token_id)
        width = batch["input_ids"].shape[1]
        completions, new_tokens = [], 0
        for row in out:
            generated = row[width:]
            n = int((generated != self._tok.pad_token_id).sum())
            new_tokens += n
            text = self._tok.decode(generated, skip_special_tokens=True)
            for stop in decoding.stop:  # generate() keeps the stop string; the APIs do not
                text = text.split(stop)[0]
            finish = "length" if n >= decoding.max_tokens else "stop"
            completions.append(Completion(text, finish))
        prompt_tokens = int(batch["attention_mask"].sum())
        return Response(completions, {"prompt_tokens": prompt_tokens, "completion_tokens": new_tokens})

    async def complete(self, prompts: list[str], decoding: Decoding) -> Response:
        async with self._lock:
            return await asyncio.to_thread(self._generate, prompts, decoding)

    async def aclose(self) -> None:
        return None
