"""Turn instruction records into token ids and labels (-100 on the prompt)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from finetune.chat_template import chat_pairs
from finetune.templates import ChatTemplate, Template

IGNORE_INDEX = -100  # positions torch's cross_entropy skips (Alpaca's IGNORE_INDEX)


@dataclass
class Encoded:
    """One tokenised example. `labels[i]` is the token the model is taught at position i."""

    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class EncodedSet:
    examples: list[Encoded]
    dropped: Counter = field(default_factory=Counter)
    """Drop reason -> count (e.g. prompt_fills_max_length)."""


def template_length(tokenizer, template: Template | ChatTemplate) -> int:
    """Tokens of the longer empty prompt (with input) plus the end of an empty reply (EOS): the
    least max_length can be."""
    ((prompt, reply),) = prompt_reply_ids([{"instruction": "", "input": "x", "output": ""}], tokenizer, template)
    return len(prompt) + len(reply)


def prompt_reply_ids(records: list[dict], tokenizer, template: Template | ChatTemplate) -> list[tuple[list, list]]:
    """(prompt ids, response ids ending with EOS) per record, for either kind of template.

    Prompt and response are tokenised separately, so the -100 span is exactly the prompt. Alpaca
    tokenised prompt+response together and masked the prompt's length, which can be off by one
    when a token merges across the boundary (stanford_alpaca PR #229); encoding the two parts
    separately avoids that, as litgpt does. EOS is appended as an id, not as text.
    """
    if isinstance(template, ChatTemplate):
        return chat_pairs(records, tokenizer)
    prompts = [template.render(r["instruction"], r.get("input")) for r in records]
    prompt_ids = tokenizer(prompts, verbose=False)["input_ids"]
    response_ids = tokenizer([r["output"] for r in records], add_special_tokens=False, verbose=False)["input_ids"]
    return [(p, r + [tokenizer.eos_token_id]) for p, r in zip(prompt_ids, response_ids)]


def encode_records(records: list[dict], tokenizer, template: Template | ChatTemplate, max_length: int,
                   train_on_prompt: bool = False) -> EncodedSet:
    """Token ids and labels per record: -100 on the prompt (unless `train_on_prompt`), the
    response and its EOS taught; an example whose prompt fills max_length is dropped."""
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token; set one before fine-tuning")
    minimum = template_length(tokenizer, template)
    if max_length < minimum:
        raise ValueError(f"max_length {max_length} is below the template length ({minimum} tokens "
                         f"with an empty instruction and EOS)")
    out = EncodedSet([])
    if not records:
        return out
    for p, r in prompt_reply_ids(records, tokenizer, template):
        if len(p) >= max_length and not train_on_prompt:
            # Nothing of the response would survive truncation: an all -100 example only
            # dilutes per-micro-batch means (or yields NaN when alone), so it is dropped.
            out.dropped["prompt_fills_max_length"] += 1
            continue
        ids = (p + r)[:max_length]
        masked = [IGNORE_INDEX] * len(p) if not train_on_prompt else list(p)
        labels = (masked + r)[:max_length]
        out.examples.append(Encoded(ids, labels))
    return out


def shifted_targets(labels: list[int]) -> list[int]:
    """Targets aligned with inputs: position i predicts labels[i + 1]; the last predicts nothing.

    Shifting per example (before packing) guarantees that the last token of one packed example
    is never trained to predict the first token of the next.
    """
    return labels[1:] + [IGNORE_INDEX]
