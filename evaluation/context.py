"""A local checkpoint's context length, and prompts that do not fit in it.

The tokenizer warns, once per process and in alarming words ("will result in indexing errors"),
when a text is longer than its `model_max_length`. Here that case is ours to handle: `eval answer`
sends such a prompt whole and says once how many there were (cutting it would cut off the
instruction or the template's response marker), and chat drops the oldest turns until the
conversation fits, saying so once.
"""

from __future__ import annotations

_TOKENIZER_WARNING = "sequence-length-is-longer-than-the-specified-maximum"
_UNSET = 10**12  # transformers' stand-in when a tokenizer does not know its model's length


def context_length(backend) -> int | None:
    """The shorter of the tokenizer's `model_max_length` and the model's position limit; None
    for an endpoint (its server knows) or when neither says."""
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is None:
        return None
    tokenizer.deprecation_warnings[_TOKENIZER_WARNING] = True  # said here instead, in our words
    limits = [getattr(tokenizer, "model_max_length", None),
              getattr(getattr(getattr(backend, "_model", None), "config", None), "max_position_embeddings", None)]
    limits = [n for n in limits if isinstance(n, int) and 0 < n < _UNSET]
    return min(limits) if limits else None


def prompt_tokens(backend, prompt: str | list[dict]) -> int:
    """Tokens of a prompt as the local backend sends it (chat messages through its template)."""
    if isinstance(prompt, list):
        return len(backend.tokenizer(backend.render_chat(prompt), add_special_tokens=False)["input_ids"])
    if getattr(backend, "chat", False):
        return prompt_tokens(backend, [{"role": "user", "content": prompt}])
    return len(backend.tokenizer(prompt)["input_ids"])


def long_prompts_note(backend, prompts: list[str], model: str) -> str | None:
    """One line when some prompts are longer than the local model's context, else None."""
    limit = context_length(backend)
    if limit is None:
        return None
    lengths = [prompt_tokens(backend, p) for p in prompts]
    over = [n for n in lengths if n > limit]
    if not over:
        return None
    return (f"{len(over)} of {len(prompts)} prompts are longer than {model}'s context of {limit} tokens (the "
            f"longest {max(over)}): they are sent whole, so the model reads past the length it was trained on "
            "and those answers may be weaker (a model with learned positions cannot answer them at all)")
