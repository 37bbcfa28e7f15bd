"""Backends by name. `build_backend` is the one place that turns a config into a client."""

from __future__ import annotations

import os

from selfinstruct.backends.base import Backend, Completion, Decoding, Response
from selfinstruct.config import GenerateConfig

BACKENDS = {
    "openai": "any OpenAI-compatible endpoint: OpenAI, vLLM, llama.cpp server, Ollama, TGI",
    "transformers": "a local transformers checkpoint (a path), in-process",
    "replay": "re-sieve the responses journaled in --run-dir, sending nothing",
}
# `replay` is a --backend choice without a client: it reads the journal of an earlier run
# (journal.read_recorded_run) and re-sieves it (generate.replay), so build_backend never builds it.

__all__ = ["BACKENDS", "Backend", "Completion", "Decoding", "Response", "build_backend", "build_response_backend"]


def build_response_backend(cfg: GenerateConfig, *, api_key: str | None = None, count_tokens=None) -> Backend | None:
    """The backend of --response-model / --response-base-url, or None when the main model answers too."""
    if not (cfg.response_model or cfg.response_base_url):
        return None
    return build_backend(cfg, api_key=api_key, count_tokens=count_tokens, model=cfg.response_model or cfg.model,
                         base_url=cfg.response_base_url or cfg.base_url)


def build_backend(cfg: GenerateConfig, *, api_key: str | None = None, count_tokens=None, model: str | None = None,
                  base_url: str | None = None) -> Backend:
    """The backend a config asks for (or for `model` at `base_url`, the response model).

    The key comes from the argument or OPENAI_API_KEY, never the config."""
    model, base_url = model or cfg.model, base_url or cfg.base_url
    if cfg.backend == "openai":
        from selfinstruct.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(model, api=cfg.api, base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
                             api_key=api_key or os.environ.get("OPENAI_API_KEY"),
                             prompts_per_request=cfg.prompts_per_request, timeout_s=cfg.timeout_s, rpm=cfg.rpm,
                             tpm=cfg.tpm, count_tokens=count_tokens)
    if cfg.backend == "transformers":
        from selfinstruct.backends.transformers_backend import TransformersBackend

        # --api completions continues the raw prompt; chat wraps it in the checkpoint's chat template, if any.
        return TransformersBackend(model, prompts_per_request=cfg.request_batch_size,
                                   chat_template=False if cfg.api == "completions" else None)
    if cfg.backend == "replay":
        raise ValueError("the replay backend sends nothing and has no client: re-sieve a run with "
                         "selfinstruct.generate.replay (the CLI's --backend replay)")
    raise ValueError(f"unknown backend {cfg.backend!r}; choose one of {', '.join(BACKENDS)}")
