"""Templates, tokenisation and label masking."""

from __future__ import annotations

import pytest

from finetune.encode import IGNORE_INDEX, encode_records, shifted_targets, template_length
from finetune.model import add_missing_tokens, load_model, load_tokenizer
from finetune.templates import load_template


@pytest.fixture(scope="module")
def template():
    return load_template("alpaca")


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return load_tokenizer(str(tiny_model), 512)


def test_template_picks_form_by_input(template):
    with_input = template.render("Sum the numbers.", "1 2 3")
    without = template.render("Name a colour.", "")
    assert "### Input:\n1 2 3" in with_input and with_input.endswith("### Response:")
    assert "### Input:" not in without and "### Instruction:\nName a colour." in without
    assert template.render("Name a colour.") == without


def test_labels_are_masked_exactly_on_the_prompt(tokenizer, template):
    rec = {"instruction": "Reverse the words.", "input": "river stone", "output": "stone river"}
    ex = encode_records([rec], tokenizer, template, 512).examples[0]
    prompt_len = len(tokenizer(template.render(rec["instruction"], rec["input"]))["input_ids"])
    assert ex.labels[:prompt_len] == [IGNORE_INDEX] * prompt_len
    assert IGNORE_INDEX not in ex.labels[prompt_len:]
    assert ex.input_ids[0] == tokenizer.bos_token_id
    assert ex.labels[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ex.labels[prompt_len:-1]) == rec["output"]
    assert tokenizer.decode(ex.input_ids[1:prompt_len]) == template.render(rec["instruction"], rec["input"])


def test_train_on_prompt_keeps_every_label(tokenizer, template):
    rec = {"instruction": "Name a colour.", "input": "", "output": "green"}
    ex = encode_records([rec], tokenizer, template, 512, train_on_prompt=True).examples[0]
    assert ex.labels == ex.input_ids


def test_shifted_targets_never_cross_the_example_end():
    assert shifted_targets([IGNORE_INDEX, 5, 6, 2]) == [5, 6, 2, IGNORE_INDEX]


def test_prompt_filling_max_length_is_dropped_and_short_max_length_rejected(tokenizer, template):
    minimum = template_length(tokenizer, template)
    long = {"instruction": "count " * 200, "input": "", "output": "x"}
    short = {"instruction": "Name a colour.", "input": "", "output": "green"}
    out = encode_records([long, short], tokenizer, template, minimum + 40)
    assert len(out.examples) == 1 and out.dropped["prompt_fills_max_length"] == 1
    assert len(out.examples[0]) <= minimum + 40
    with pytest.raises(ValueError, match="below the template length"):
        encode_records([short], tokenizer, template, minimum - 1)


def test_missing_pad_token_is_added_with_mean_embedding(tiny_model_no_pad):
    from finetune.config import FinetuneConfig

    tok = load_tokenizer(str(tiny_model_no_pad), 512)
    assert tok.pad_token is None
    before = len(tok)
    assert add_missing_tokens(tok) == ["pad_token"]
    assert tok.pad_token == "[PAD]" and len(tok) == before + 1
    model = load_model(FinetuneConfig(model=str(tiny_model_no_pad)), tok)
    for emb in (model.get_input_embeddings(), model.get_output_embeddings()):
        w = emb.weight.detach()
        assert w.shape[0] == before + 1
        assert (w[-1] - w[:-1].mean(dim=0)).abs().max() < 1e-6
