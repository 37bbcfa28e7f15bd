"""Everything that can fail on bad input, done before any model is loaded or trained."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from finetune.chat_template import chat_template_of
from finetune.config import FinetuneConfig
from finetune.dataset import DatasetSource, load_records, split_eval
from finetune.encode import Encoded, encode_records
from finetune.model import add_missing_tokens, check_model_path, load_tokenizer
from finetune.templates import ChatTemplate, Template, load_template


@dataclass
class PreparedData:
    train: list[Encoded]
    eval: list[Encoded]
    source: DatasetSource
    tokenizer: object
    template: Template | ChatTemplate
    """The template trained with; a chat template holds the tokenizer's own text."""
    architecture: str
    added_tokens: list[str]
    dropped: Counter
    records: int


def prepare_data(config: FinetuneConfig, need_weights: bool = True) -> PreparedData:
    """Check the model path, load and validate the records, tokenise, hold out the eval split.

    `need_weights=False` (plans) accepts a directory with only config.json and the tokenizer.
    """
    if not config.model:
        raise ValueError("no model given: pass --model PATH (a local transformers causal LM)")
    if not config.dataset:
        raise ValueError("no dataset given: pass --dataset NAME@V or a JSON/JSONL/Parquet file")
    if config.packing and config.row_length < config.max_length:
        raise ValueError(f"pack_length {config.pack_length} is below max_length {config.max_length}")
    check_fsdp_fields(config.fsdp)
    architecture = check_model_path(config.model, need_weights)
    template = load_template(config.template)
    records, source = load_records(config.dataset, config.registry)
    tokenizer = load_tokenizer(config.model, config.max_length)
    added = add_missing_tokens(tokenizer)
    if isinstance(template, ChatTemplate):
        template = chat_template_of(tokenizer, config.model)
    train_idx, eval_idx = split_eval(len(records), config.eval_fraction, config.seed)
    enc_train = encode_records([records[i] for i in train_idx], tokenizer, template,
                               config.max_length, config.train_on_prompt)
    enc_eval = encode_records([records[i] for i in eval_idx], tokenizer, template,
                              config.max_length, config.train_on_prompt)
    if not enc_train.examples:
        raise ValueError(f"{source.ref}: no training example survives tokenisation "
                         f"(dropped: {dict(enc_train.dropped)})")
    return PreparedData(enc_train.examples, enc_eval.examples, source, tokenizer, template,
                        architecture, added, enc_train.dropped + enc_eval.dropped, len(records))


def check_fsdp_fields(fsdp: dict) -> None:
    """Recipe `fsdp:` keys must be FullyShardedDataParallelPlugin fields (checked on CPU too)."""
    if not fsdp:
        return
    import dataclasses

    from accelerate import FullyShardedDataParallelPlugin

    known = {f.name for f in dataclasses.fields(FullyShardedDataParallelPlugin)}
    unknown = sorted(set(fsdp) - known)
    if unknown:
        raise ValueError(f"fsdp: unknown FullyShardedDataParallelPlugin field(s) {', '.join(unknown)}")
