"""Packed rows give the same loss as one example per row: examples never see each other."""

from __future__ import annotations

import pytest
import torch

from finetune.batching import MicroBatch
from finetune.collate import collate
from finetune.encode import encode_records
from finetune.model import load_tokenizer
from finetune.step import forward_loss_sum
from finetune.templates import load_template


@pytest.fixture(scope="module")
def encoded(tiny_model, records):
    tok = load_tokenizer(str(tiny_model), 512)
    return tok, encode_records(records[:8], tok, load_template("alpaca"), 512).examples


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_loss_equals_unpacked_loss(tiny_model, encoded, attn):
    from transformers import AutoModelForCausalLM

    tok, examples = encoded
    model = AutoModelForCausalLM.from_pretrained(str(tiny_model), attn_implementation=attn).eval()
    unpacked = collate(MicroBatch([[i] for i in range(8)]), examples, tok.pad_token_id, packed=False)
    packed = collate(MicroBatch([[0, 1, 2], [3, 4, 5, 6], [7]]), examples, tok.pad_token_id, packed=True)
    assert unpacked["target_tokens"] == packed["target_tokens"]
    assert packed["slots"] < unpacked["slots"]
    first = len(examples[0])
    assert packed["position_ids"][0, first].item() == 0  # restarts at the second example
    with torch.no_grad():
        a = forward_loss_sum(model, unpacked)
        b = forward_loss_sum(model, packed)
        # The same rows with positions that do not restart: examples attend to each other.
        leaky = dict(packed, position_ids=torch.arange(packed["input_ids"].shape[1]).expand_as(
            packed["input_ids"]))
        c = forward_loss_sum(model, leaky)
    assert torch.allclose(a, b, rtol=1e-5), (a, b)
    assert (a - c).abs() > 100 * (a - b).abs()
