"""Session fixtures: synthetic instruction records, a tiny tokenizer and a tiny random Llama."""

from __future__ import annotations

import json
import os
import random

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WORDS = ("alpha beta gamma delta river stone cloud seven green paper quick slow bright "
         "count list write name sum sort reverse city color number word sentence").split()


def make_records(n: int, seed: int = 0) -> list[dict]:
    """Synthetic records, about 40% with an input (as Alpaca), with learnable outputs."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.sample(WORDS, rng.randint(2, 6))
        if i % 5 < 2:
            out.append({"instruction": "Reverse the words.", "input": " ".join(words),
                        "output": " ".join(reversed(words))})
        else:
            out.append({"instruction": f"Repeat the word {words[0]} twice.", "input": "",
                        "output": f"{words[0]} {words[0]}"})
    return out


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return make_records(300)


@pytest.fixture(scope="session")
def records_file(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("data") / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _texts(records):
    from finetune.templates import load_template

    t = load_template("alpaca")
    return [t.render(r["instruction"], r["input"]) + r["output"] for r in records]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, records):
    """Directory with a tiny random Llama (hidden 64, 2 layers) and a BPE tokenizer with [PAD]."""
    from finetune.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama"), _texts(records))


@pytest.fixture(scope="session")
def tiny_model_no_pad(tmp_path_factory, records):
    """The same kind of model whose tokenizer lacks a pad token (Alpaca adds one)."""
    from finetune.tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-nopad"), _texts(records), with_pad=False)
