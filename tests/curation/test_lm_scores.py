"""IFD and perplexity against transformers' own loss, on a tiny Llama built here.

The reference is computed record by record with `model(input_ids, labels=...)`, the loss the model
is trained with (labels -100 where nothing is scored); the scorer computes it its own way, batched."""

from __future__ import annotations

import math
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from curation.lm_scores import (  # noqa: E402
    lineage,
    load_model,
    model_files_hash,
    score_loaded,
    score_outputs,
    start_token,
    template_sha256,
    truncate,
)
from finetune.templates import Template, load_template  # noqa: E402
from modelcalls.errors import ConfigError  # noqa: E402

RECORDS = [
    {"instruction": "Repeat the word river twice.", "input": "", "output": "river river"},
    {"instruction": "Reverse the words.", "input": "stone cloud seven green",
     "output": "green seven cloud stone"},
    {"instruction": "Name a colour.", "output": "green"},  # no input field at all
    {"instruction": "Write a sentence about paper.", "input": "",
     "output": "The quick paper sorts seven bright numbers, then lists every city by colour and word."},
    {"instruction": "Count the words.", "input": "alpha beta gamma delta river stone cloud seven",
     "output": "8"},
]
EMPTY = {"instruction": "Say nothing.", "input": "", "output": ""}


@pytest.fixture(scope="module")
def template():
    return load_template("alpaca")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, template):
    """A tiny random Llama and a BPE tokenizer (BOS added to every encoding, [PAD]) trained on RECORDS."""
    from finetune.tiny import save_tiny_model

    texts = [template.render(r["instruction"], r.get("input")) + r["output"] for r in RECORDS] * 4
    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama"), texts, vocab_size=300)


@pytest.fixture(scope="module")
def loaded(tiny):
    return load_model(tiny)


def hf_loss(model, ids: list[int], n_scored: int) -> float:
    """transformers' loss of `ids` with only its last `n_scored` tokens as labels."""
    import torch

    labels = [-100] * (len(ids) - n_scored) + ids[len(ids) - n_scored:]
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss.item()


def reference(model, tokenizer, template, record, kind, max_length=10_000):
    prompt = tokenizer(template.render(record["instruction"], record.get("input")))["input_ids"]
    output = tokenizer(record["output"], add_special_tokens=False)["input_ids"]
    prompt, output = truncate(prompt, output, max_length)
    given = hf_loss(model, prompt + output, len(output))
    if kind == "perplexity":
        return math.exp(given)
    return given / hf_loss(model, [tokenizer.bos_token_id] + output, len(output))


@pytest.mark.parametrize("kind", ["ifd", "perplexity"])
def test_scores_equal_transformers_loss_record_by_record(loaded, template, kind):
    model, tokenizer = loaded
    got = score_loaded(model, tokenizer, RECORDS, template=template, kind=kind, batch_size=3)
    expected = [reference(model, tokenizer, template, r, kind) for r in RECORDS]
    assert got == pytest.approx(expected, rel=1e-5)
    assert len(set(got)) == len(RECORDS)  # a random model still tells the records apart


def test_the_prompt_is_the_alpaca_template_with_its_input(loaded, template):
    """The input is part of the prompt: changing it changes the score given the prompt."""
    model, tokenizer = loaded
    record = RECORDS[1]
    other = {**record, "input": "paper quick slow"}
    a, b = score_loaded(model, tokenizer, [record, other], template=template, kind="perplexity")
    assert a != pytest.approx(b, rel=1e-4)


@pytest.mark.parametrize("kind", ["ifd", "perplexity"])
def test_batched_equals_one_at_a_time(loaded, template, kind):
    model, tokenizer = loaded
    rows = RECORDS + [EMPTY] + RECORDS[::-1]
    batched = score_loaded(model, tokenizer, rows, template=template, kind=kind, batch_size=16)
    alone = [score_loaded(model, tokenizer, [r], template=template, kind=kind, batch_size=1)[0] for r in rows]
    assert batched[5] is None and alone[5] is None
    for b, a in zip(batched[:5] + batched[6:], alone[:5] + alone[6:]):
        assert b == pytest.approx(a, abs=1e-5)


class _CountingModel:
    """The model as mean_losses sees it, recording the shape of each batch fed to the decoder."""

    def __init__(self, model):
        self._model, self.batches = model, []

    def get_decoder(self):
        def decoder(**inputs):
            self.batches.append(tuple(inputs["input_ids"].shape))
            return self._model.get_decoder()(**inputs)
        return decoder

    def get_output_embeddings(self):
        return self._model.get_output_embeddings()


def test_ifd_scores_both_losses_of_its_records_in_shared_batches(loaded, template):
    """The prompt-and-output and the start-and-output sequences go through the model together."""
    model, tokenizer = loaded
    counting = _CountingModel(model)
    got = score_loaded(counting, tokenizer, RECORDS[:4], template=template, kind="ifd", batch_size=8)
    assert [rows for rows, _ in counting.batches] == [8]
    assert got == pytest.approx(score_loaded(model, tokenizer, RECORDS[:4], template=template, kind="ifd",
                                             batch_size=2), abs=1e-5)


@pytest.mark.parametrize("kind", ["ifd", "perplexity"])
def test_an_empty_output_scores_none(loaded, template, kind):
    model, tokenizer = loaded
    got = score_loaded(model, tokenizer, [EMPTY, RECORDS[0], EMPTY], template=template, kind=kind)
    assert got[0] is None and got[2] is None
    assert isinstance(got[1], float)
    assert score_loaded(model, tokenizer, [], template=template, kind=kind) == []


@pytest.mark.parametrize(("prompt", "output", "max_length", "expected"), [
    (6, 3, 9, (6, 3)),      # fits: nothing cut
    (6, 3, 8, (5, 3)),      # the output fits in its half: the prompt loses its first token
    (3, 10, 8, (3, 5)),     # a short prompt keeps everything; the output gets the rest
    (10, 10, 8, (4, 4)),    # both long: the output gets half
    (20, 3, 8, (5, 3)),     # a long prompt keeps its end
    (1, 20, 8, (1, 7)),     # the output keeps at most max_length - 1 (it also follows a start token)
])
def test_truncation_keeps_the_prompts_end_and_the_outputs_start(prompt, output, max_length, expected):
    p, o = list(range(100, 100 + prompt)), list(range(200, 200 + output))
    kept_p, kept_o = truncate(p, o, max_length)
    assert (len(kept_p), len(kept_o)) == expected
    assert kept_p == p[len(p) - expected[0]:]
    assert kept_o == o[:expected[1]]
    assert len(kept_p) + len(kept_o) <= max_length


@pytest.mark.parametrize("kind", ["ifd", "perplexity"])
def test_long_records_are_scored_on_the_truncated_tokens(loaded, template, kind):
    model, tokenizer = loaded
    record = RECORDS[3]
    full = score_loaded(model, tokenizer, [record], template=template, kind=kind)[0]
    short = score_loaded(model, tokenizer, [record], template=template, kind=kind, max_length=24)[0]
    assert short == pytest.approx(reference(model, tokenizer, template, record, kind, max_length=24), rel=1e-5)
    assert short != pytest.approx(full, rel=1e-4)


def test_score_outputs_loads_the_checkpoint_and_returns_its_lineage(tiny, loaded, template):
    values, settings = score_outputs(RECORDS[:2], template=template, kind="ifd", model_path=tiny, batch_size=2)
    model, tokenizer = loaded
    assert values == pytest.approx([reference(model, tokenizer, template, r, "ifd") for r in RECORDS[:2]], rel=1e-5)
    assert settings == {"kind": "ifd", "model": str(tiny), "model_files": model_files_hash(tiny),
                        "template": "alpaca", "template_sha256": template_sha256(template), "max_length": 512}
    _, again = score_outputs(RECORDS[:1], template=template, kind="ifd", model_path=tiny, batch_size=1)
    assert again == settings  # the batch size is not lineage


def test_lineage_changes_with_the_template_text_and_the_model_files(tmp_path, template):
    for name, size in (("config.json", 10), ("model.safetensors", 100)):
        (tmp_path / name).write_bytes(b"x" * size)
    before = lineage("ifd", tmp_path, template, 512)
    edited = Template("alpaca", template.with_input, template.without_input + " ")
    assert lineage("ifd", tmp_path, edited, 512)["template_sha256"] != before["template_sha256"]
    (tmp_path / "model.safetensors").write_bytes(b"x" * 101)
    assert lineage("ifd", tmp_path, template, 512)["model_files"] != before["model_files"]


def test_without_bos_an_output_alone_follows_eos(tmp_path, template):
    from finetune.tiny import build_tokenizer

    tokenizer = build_tokenizer(["some text to train on"] * 4, vocab_size=270)
    assert start_token(tokenizer) == tokenizer.bos_token_id
    tokenizer.bos_token = None
    assert start_token(tokenizer) == tokenizer.eos_token_id
    tokenizer.eos_token = None
    with pytest.raises(ConfigError, match="neither a BOS nor an EOS"):
        start_token(tokenizer)


@pytest.mark.parametrize(("options", "message"), [
    ({"kind": "judge"}, "unknown language-model scorer 'judge'; choose one of ifd, perplexity"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"max_length": 2}, "max_length must be at least 4"),
])
def test_bad_settings_are_one_line_config_errors(tiny, template, options, message):
    with pytest.raises(ConfigError, match=message):
        score_outputs(RECORDS, template=template, model_path=tiny, **options)


def test_a_folder_without_a_checkpoint_is_a_config_error(tmp_path, template):
    with pytest.raises(ConfigError, match="not a model checkpoint folder"):
        score_outputs(RECORDS, template=template, model_path=tmp_path)


@pytest.mark.slow
def test_the_default_model_is_the_built_in_smollm2(template):
    from selfinstruct.local_model import local_model_path

    path = local_model_path()
    if path is None:
        pytest.skip("the built-in model is not prepared here")
    values, settings = score_outputs([RECORDS[0], EMPTY], template=template, kind="perplexity")
    assert settings["model"] == str(path) and settings["model_files"] == model_files_hash(path)
    assert values[0] > 1.0 and values[1] is None
