"""Train with the base model's own chat template: each record as a system?/user/assistant
conversation (records/conversations.py), the loss on the assistant's reply and its end token only.

The masked span is found by rendering the conversation twice, without the reply (with the
generation prompt, as at inference) and with it: the first must be a prefix of the second, and
what follows it, up to and including the tokenizer's EOS (which the template puts at the end of
the assistant turn), is the reply the model is taught. Anything the template adds after that
token (ChatML's newline) is not trained: generation stops at EOS.
"""

from __future__ import annotations

from finetune.templates import ChatTemplate
from records.conversations import record_messages


def chat_template_of(tokenizer, model: str) -> ChatTemplate:
    """The tokenizer's chat template, or a ValueError in one line when the checkpoint has none."""
    source = getattr(tokenizer, "chat_template", None)
    if not source:
        raise ValueError(f"{model}: the tokenizer has no chat template, so --template chat cannot be used; "
                         "train with --template alpaca (or a YAML template) instead")
    return ChatTemplate(source=source if isinstance(source, str) else str(source))


def chat_pairs(records: list[dict], tokenizer) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, reply ids ending with EOS) for each record, through the chat template."""
    eos = tokenizer.eos_token_id
    prompts, fulls = [], []
    for r in records:
        messages = record_messages(r)
        prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template renders the conversation differently with and without the reply, "
                             "so the reply's tokens cannot be told apart; use --template alpaca")
        prompts.append(prompt)
        fulls.append(full[len(prompt):])
    # The template writes BOS and other specials as text: add none on top.
    prompt_ids = tokenizer(prompts, add_special_tokens=False, verbose=False)["input_ids"] if prompts else []
    reply_ids = tokenizer(fulls, add_special_tokens=False, verbose=False)["input_ids"] if fulls else []
    pairs = []
    for p, tail in zip(prompt_ids, reply_ids):
        if eos not in tail:
            raise ValueError(f"the chat template does not end the assistant turn with the EOS token "
                             f"{tokenizer.eos_token!r}, so generation would not stop; use --template alpaca")
        pairs.append((p, tail[: tail.index(eos) + 1]))
    return pairs
