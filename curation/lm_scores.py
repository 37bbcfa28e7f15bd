"""Scores from a causal LM's own losses: perplexity of a record's output and Cherry LLM's IFD.

Exactly what is measured (docs/curation.md, "IFD and perplexity", says the same):

- The prompt is the record rendered with a training template (Alpaca's: `template.render(instruction,
  input)`), tokenised as finetune tokenises it (special tokens as the tokenizer adds them). The
  output is tokenised on its own, without special tokens and without EOS; those output tokens, and
  only they, are scored, the same ids in both measurements below.
- `loss_given_prompt`: the mean cross-entropy (natural log) of the output tokens, each predicted
  from the prompt and the output tokens before it.
- `loss_alone`: the mean cross-entropy of the same tokens predicted from the output alone, after one
  start token: the tokenizer's BOS, or its EOS when it has no BOS (the end of a previous text).
- perplexity = exp(loss_given_prompt); IFD = loss_given_prompt / loss_alone. An IFD near or above 1
  means the instruction hardly helps the model produce the output (Cherry LLM keeps records with a
  high IFD below 1). A record whose output has no token scores None.
- Longer than `max_length` tokens (prompt + output): the output keeps its first tokens, at least
  half the budget when it needs it, and the prompt its last tokens (the template's response marker
  stays next to the output; the preamble goes first). Only the kept output tokens are scored, in
  both measurements.

Batches are right-padded with an attention mask, so a record's score does not depend on its
neighbours; sequences are batched by length to waste little on padding, the prompt-and-output
and the start-and-output sequences of IFD together. Logits are computed only at
the scored positions: the decoder's last hidden states there, times the output embedding (the LM
head), which is what causal LMs of the Llama family compute.

    values, settings = score_outputs(rows, kind="ifd", template=load_template("alpaca"))

`settings` is the scores' lineage: kind, model folder and a hash of its file names and sizes, the
template's name and SHA-256, max_length (batch size does not change a score and is not in it).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from modelcalls.errors import ConfigError
from selfinstruct.local_model import ensure_local_model

KINDS = ("ifd", "perplexity")
DEFAULT_MAX_LENGTH = 512  # Alpaca trained with model_max_length 512
DEFAULT_BATCH_SIZE = 16


class PromptTemplate(Protocol):
    """An Alpaca-style training template (finetune.templates.Template has this shape)."""

    name: str
    with_input: str
    without_input: str

    def render(self, instruction: str, input: str | None = None) -> str: ...


def score_outputs(records: Sequence[dict], *, template: PromptTemplate, kind: str = "ifd",
                  model_path: str | Path | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                  max_length: int = DEFAULT_MAX_LENGTH) -> tuple[list[float | None], dict]:
    """One score per record (None where undefined) and the settings that produced them.

    `model_path`: a causal LM checkpoint folder, read with local files only; by default the built-in
    SmolLM2-135M (prepared on first use)."""
    _check_settings(kind, batch_size, max_length)
    path = Path(model_path) if model_path is not None else ensure_local_model()
    model, tokenizer = load_model(path)
    values = score_loaded(model, tokenizer, records, template=template, kind=kind, batch_size=batch_size,
                          max_length=max_length)
    return values, lineage(kind, path, template, max_length)


def score_loaded(model, tokenizer, records: Sequence[dict], *, template: PromptTemplate, kind: str = "ifd",
                 batch_size: int = DEFAULT_BATCH_SIZE, max_length: int = DEFAULT_MAX_LENGTH) -> list[float | None]:
    """`score_outputs` with a model and tokenizer already loaded (a benchmark loads once)."""
    _check_settings(kind, batch_size, max_length)
    start = start_token(tokenizer) if kind == "ifd" else None  # before any work: it may fail
    pairs = [truncate(p, o, max_length) for p, o in token_pairs(records, tokenizer, template)]
    sequences, scored = [p + o for p, o in pairs], [len(o) for _, o in pairs]
    if kind == "ifd":  # both losses in one pass over the model: the two kinds of sequence share batches
        sequences, scored = sequences + [[start] + o for _, o in pairs], scored + scored
    losses = mean_losses(model, sequences, scored, batch_size, _pad_id(tokenizer))
    given, alone = losses[:len(pairs)], losses[len(pairs):]
    if kind == "perplexity":
        return [None if loss is None else math.exp(loss) for loss in given]
    return [None if g is None or not a else g / a for g, a in zip(given, alone)]


def token_pairs(records: Sequence[dict], tokenizer, template: PromptTemplate) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, output ids) per record, tokenised apart so the output's ids are the same with
    and without the prompt (as finetune encodes records for training, less the EOS)."""
    if not records:
        return []
    prompts = [template.render(r["instruction"], r.get("input") or None) for r in records]
    prompt_ids = tokenizer(prompts, verbose=False)["input_ids"]
    output_ids = tokenizer([r["output"] for r in records], add_special_tokens=False, verbose=False)["input_ids"]
    return list(zip(prompt_ids, output_ids))


def truncate(prompt: list[int], output: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """Fit prompt + output into `max_length` tokens: the output keeps its first tokens (all it
    needs, up to at least half the budget), the prompt its last ones. The output keeps at most
    max_length - 1 tokens, so that it fits after a start token on its own too.

    >>> truncate([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], 8)
    ([3, 4, 5, 6], [7, 8, 9, 10])
    """
    if len(prompt) + len(output) <= max_length:
        return prompt, output
    keep_output = min(len(output), max(max_length - len(prompt), max_length // 2), max_length - 1)
    keep_prompt = max_length - keep_output
    return prompt[len(prompt) - keep_prompt:], output[:keep_output]


def mean_losses(model, sequences: list[list[int]], scored: list[int], batch_size: int,
                pad_id: int) -> list[float | None]:
    """Per sequence, the mean cross-entropy of its last `scored[i]` tokens, each predicted from the
    tokens before it; None where nothing is scored. Sequences go in batches of similar length."""
    import torch

    out: list[float | None] = [None] * len(sequences)
    todo = sorted((i for i in range(len(sequences)) if scored[i] > 0), key=lambda i: len(sequences[i]), reverse=True)
    decoder, head = model.get_decoder(), model.get_output_embeddings()
    with torch.inference_mode():
        for b in range(0, len(todo), batch_size):
            batch = todo[b:b + batch_size]
            width = len(sequences[batch[0]])
            ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, :len(sequences[i])] = torch.tensor(sequences[i])
                mask[row, :len(sequences[i])] = 1
            hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state
            rows, positions, targets = [], [], []
            for row, i in enumerate(batch):
                end, n = len(sequences[i]), scored[i]
                rows += [row] * n
                positions += range(end - n - 1, end - 1)  # position t predicts token t + 1
                targets += sequences[i][end - n:]
            logits = head(hidden[rows, positions]).float()
            losses = torch.nn.functional.cross_entropy(logits, torch.tensor(targets), reduction="none")
            for i, part in zip(batch, losses.split([scored[i] for i in batch])):
                out[i] = part.mean().item()
    return out


def start_token(tokenizer) -> int:
    """The token an output alone follows: BOS, else EOS."""
    for token in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token is not None:
            return token
    raise ConfigError("the tokenizer has neither a BOS nor an EOS token: IFD needs one to score an output alone")


def _pad_id(tokenizer) -> int:
    """Any id does: padded positions are masked and never scored."""
    for token in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token is not None:
            return token
    return 0


def load_model(path: Path):
    """(model, tokenizer) from a local checkpoint folder, fp32, in eval mode; nothing downloaded."""
    if not (Path(path) / "config.json").is_file():
        raise ConfigError(f"{path}: not a model checkpoint folder (no config.json)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # scores are a step of a command: no bar per weight file
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    return model.eval(), tokenizer


def lineage(kind: str, model_path: Path, template: PromptTemplate, max_length: int) -> dict:
    """What a score depends on, for a layer's lineage and for reusing scores computed before."""
    return {"kind": kind, "model": str(model_path), "model_files": model_files_hash(model_path),
            "template": template.name, "template_sha256": template_sha256(template), "max_length": max_length}


def model_files_hash(folder: Path) -> str:
    """16 hex digits of SHA-256 over the names and sizes of the folder's files: cheap (no weights
    read) and different for any other checkpoint in practice."""
    listing = sorted((p.name, p.stat().st_size) for p in Path(folder).iterdir() if p.is_file())
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]


def template_sha256(template: PromptTemplate) -> str:
    """SHA-256 of the template's two texts as JSON (`with_input`, `without_input`, sorted keys)."""
    body = {"with_input": template.with_input, "without_input": template.without_input}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _check_settings(kind: str, batch_size: int, max_length: int) -> None:
    if kind not in KINDS:
        raise ConfigError(f"unknown language-model scorer {kind!r}; choose one of {', '.join(KINDS)}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
    if max_length < 4:
        raise ConfigError(f"max_length must be at least 4 tokens, not {max_length}")

