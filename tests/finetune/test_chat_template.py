"""`--template chat`: records through the model's own chat template, the loss on the reply and its
end token only, recorded for `eval answer` and `chat`; refused for a checkpoint without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from commands.main import cli
from evaluation.prompt_format import resolve_format
from finetune.chat_template import chat_template_of
from finetune.encode import IGNORE_INDEX, encode_records, template_length
from finetune.model import load_tokenizer
from finetune.templates import TEMPLATE_FILE, ChatTemplate, load_template
from records.conversations import record_messages

SMOLLM2 = Path.home() / ".cache" / "selfinstruct" / "models" / "smollm2-135m-instruct"
FAST = ["max_length=128", "learning_rate=3e-3", "warmup_ratio=0", "progress_bar=false", "precision=fp32"]
CASES = [
    {"instruction": "Reverse the words.", "input": "river stone", "output": "stone river"},
    {"instruction": "Repeat the word green twice.", "input": "", "output": "green green"},
    {"instruction": "Name a colour.", "input": "", "output": "blue", "system": "Answer in one word."},
]


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory, records):
    """A tiny random Llama whose tokenizer (built with `tokenizers`) has a ChatML chat template."""
    from finetune.tiny import save_tiny_model

    texts = [r["instruction"] + " " + r["input"] + " " + r["output"] for r in records]
    return save_tiny_model(tmp_path_factory.mktemp("tiny-chat"), texts, chat=True)


@pytest.mark.parametrize("which", ["tiny", "smollm2"])
def test_only_the_reply_and_its_end_token_are_trained(tiny_chat_model, which):
    if which == "smollm2" and not (SMOLLM2 / "tokenizer.json").exists():
        pytest.skip(f"the built-in SmolLM2 is not installed at {SMOLLM2}")
    tok = load_tokenizer(str(tiny_chat_model if which == "tiny" else SMOLLM2), 512)
    template = chat_template_of(tok, which)
    for rec, ex in zip(CASES, encode_records(CASES, tok, template, 512).examples):
        taught = [t for t in ex.labels if t != IGNORE_INDEX]
        assert taught == tok(rec["output"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        start = ex.labels.index(taught[0])
        assert ex.labels[start:] == taught  # one span, at the end: the reply
        assert ex.input_ids[start:] == taught
        prompt = tok.apply_chat_template(record_messages(rec)[:-1], tokenize=False, add_generation_prompt=True)
        assert tok.decode(ex.input_ids[:start]) == prompt
    assert template_length(tok, template) < 64


def test_a_checkpoint_without_a_chat_template_is_refused_in_one_line(tmp_path, records_file, tiny_model):
    result = CliRunner().invoke(cli, ["finetune", "run", "--dataset", str(records_file), "--model", str(tiny_model),
                                      "--recipe", "tiny-cpu", "--template", "chat", "--output", str(tmp_path / "o"),
                                      *FAST, "max_steps=1"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "has no chat template" in result.output
    assert not (tmp_path / "o").exists()


def test_chat_training_packs_and_records_the_template_for_eval(tmp_path, tiny_chat_model):
    data = tmp_path / "chat.jsonl"  # the messages shape, read straight by finetune
    data.write_text("".join(json.dumps({"messages": record_messages(r)}) + "\n" for r in CASES * 8))
    out = tmp_path / "chat-model"
    result = CliRunner().invoke(cli, ["finetune", "run", "--dataset", str(data), "--model", str(tiny_chat_model),
                                      "--recipe", "tiny-cpu", "--template", "chat", "--output", str(out),
                                      *FAST, "max_steps=2", "packing=true", "eval_fraction=0", "log_every=1"])
    assert result.exit_code == 0, result.output
    recorded = load_template(str(out / TEMPLATE_FILE))
    tok = load_tokenizer(str(tiny_chat_model), 512)
    assert isinstance(recorded, ChatTemplate) and recorded.source == tok.chat_template
    assert yaml.safe_load((out / "finetune_config.yaml").read_text())["template"] == "chat"
    fmt = resolve_format(str(out), has_chat_template=False)
    assert (fmt.kind, fmt.source) == ("chat", str(out / TEMPLATE_FILE))
    assert fmt.render("Sort.", "b a") == "Sort.\n\nInput:\nb a"  # the user turn training saw
    for given in ("chat", str(out / TEMPLATE_FILE)):  # naming it again keeps the user turn of training
        assert resolve_format(str(out), given, has_chat_template=True).render("Sort.", "b a") == "Sort.\n\nInput:\nb a"
    assert resolve_format(str(tmp_path), "chat", has_chat_template=True).render("Sort.", "b a") == "Sort.\n\nb a"
    assert "own chat template" in (out / "README.md").read_text()
    loss = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines() if "loss" in line]
    assert len(loss) == 2 and all(v == v for v in loss)
