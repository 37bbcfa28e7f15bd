"""Tiny local models for tests and CPU benchmarks: a BPE tokenizer trained in-process and a
randomly initialised Llama. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
"""A ChatML chat template (the layout SmolLM2 and Qwen use), for tiny models that have one."""


def build_tokenizer(texts: list[str], vocab_size: int = 400, with_pad: bool = True, chat: bool = False):
    """Byte-level BPE trained on `texts`, BOS added to every encoding, wrapped for transformers.

    `chat` adds ChatML's turn markers and CHAT_TEMPLATE, with `<|im_end|>` as EOS, as chat models have."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>"] + (["[PAD]"] if with_pad else []) + (["<|im_start|>", "<|im_end|>"] if chat else [])
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B",
                                                       special_tokens=[("<s>", bos)])
    kwargs = {"pad_token": "[PAD]"} if with_pad else {}
    if chat:
        kwargs["chat_template"] = CHAT_TEMPLATE
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="<|im_end|>" if chat else "</s>",
                                   unk_token="<unk>", padding_side="right", **kwargs)


def build_llama(vocab_size: int, hidden: int = 64, layers: int = 2, heads: int = 4,
                kv_heads: int = 2, intermediate: int | None = None, max_positions: int = 1024,
                seed: int = 0):
    """A random LlamaForCausalLM (fp32) of the given size."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads,
                         intermediate_size=intermediate or 2 * hidden,
                         max_position_embeddings=max_positions, bos_token_id=1, eos_token_id=2,
                         tie_word_embeddings=False)
    return LlamaForCausalLM(config)


def save_tiny_model(path: Path, texts: list[str], vocab_size: int = 400, with_pad: bool = True,
                    chat: bool = False, **llama) -> Path:
    """Train a tokenizer on `texts`, build a matching random Llama, save both to `path`."""
    tok = build_tokenizer(texts, vocab_size, with_pad, chat)
    model = build_llama(len(tok), **llama)
    model.config.pad_token_id = tok.pad_token_id
    model.config.eos_token_id = model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
