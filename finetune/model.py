"""Load a local causal LM and its tokenizer; add missing special tokens the Alpaca way."""

from __future__ import annotations

import json
from pathlib import Path

from finetune.config import FinetuneConfig

# Alpaca's defaults for tokens a tokenizer may lack (stanford_alpaca train.py, 2023-04).
DEFAULT_TOKENS = {"pad_token": "[PAD]", "eos_token": "</s>", "bos_token": "<s>", "unk_token": "<unk>"}


def check_model_path(path: str, need_weights: bool = True) -> str:
    """The model's architecture name, or a ValueError before any loading work."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    cfg = Path(path) / "config.json"
    if not Path(path).is_dir():
        raise ValueError(f"model {path!r} is not a local directory (models are never downloaded)")
    if not cfg.exists():
        raise ValueError(f"{cfg}: missing; {path} is not a transformers model directory")
    try:
        model_type = json.loads(cfg.read_text()).get("model_type")
    except json.JSONDecodeError as exc:
        raise ValueError(f"{cfg}:{exc.lineno}: not valid JSON") from exc
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise ValueError(f"{cfg}: model_type {model_type!r} is not a causal LM architecture")
    weights = [*Path(path).glob("*.safetensors"), *Path(path).glob("pytorch_model*.bin")]
    if need_weights and not weights:
        raise ValueError(f"{path}: no weights (*.safetensors or pytorch_model*.bin)")
    return MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type]


def load_tokenizer(path: str, max_length: int):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path, model_max_length=max_length, padding_side="right")
    return tok


def add_missing_tokens(tokenizer, model=None) -> list[str]:
    """Add Alpaca's pad (and eos/bos/unk) tokens where missing; new embedding rows = mean.

    Alpaca set each new input and output embedding row to the mean of the existing rows, so
    the new tokens start as an "average" token rather than noise.
    """
    missing = {k: v for k, v in DEFAULT_TOKENS.items() if getattr(tokenizer, k) is None}
    if not missing:
        return []
    # bos/unk matter only where the tokenizer already uses them; always add pad and eos.
    missing = {k: v for k, v in missing.items() if k in ("pad_token", "eos_token")}
    added = tokenizer.add_special_tokens(missing)
    if model is not None and added:
        resize_with_mean(model, len(tokenizer))
    return sorted(missing)


def resize_with_mean(model, size: int) -> None:
    import torch

    old = model.get_input_embeddings().weight.shape[0]
    model.resize_token_embeddings(size, mean_resizing=False)
    with torch.no_grad():
        for emb in (model.get_input_embeddings(), model.get_output_embeddings()):
            if emb is not None and emb.weight.shape[0] == size:
                emb.weight[old:] = emb.weight[:old].mean(dim=0, keepdim=True)


def load_model(config: FinetuneConfig, tokenizer):
    """fp32 master weights (as Alpaca); bf16 compute comes from accelerate's autocast."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": torch.float32}
    if config.attn_implementation:
        kwargs["attn_implementation"] = config.attn_implementation
    model = AutoModelForCausalLM.from_pretrained(config.model, **kwargs)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        resize_with_mean(model, len(tokenizer))
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.config.use_cache = False
    if config.lora:
        model = apply_lora(model, config.lora)
    return model


def apply_lora(model, lora: dict):
    """Wrap with peft LoRA adapters (alpaca-lora's recipe); needs the optional `peft`."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise ValueError("LoRA recipes need the optional package peft (pip install peft)") from exc
    return get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **lora))


def selects_logits(model) -> bool:
    """Whether the model's forward takes a boolean (batch, length) `logits_to_keep` and returns
    logits for those positions only: the forward of transformers' own causal LMs that slice
    through `slice_logits_to_keep` (Llama, Qwen, Mistral, SmolLM...). Other models get every logit."""
    import inspect
    import sys

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
    module = sys.modules.get(type(base).__module__)
    return ("logits_to_keep" in inspect.signature(base.forward).parameters
            and getattr(module, "slice_logits_to_keep", None) is not None)
