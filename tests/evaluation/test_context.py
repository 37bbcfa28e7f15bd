"""Prompts longer than a local model's context: said once in our words, never the tokenizer's
"will result in indexing errors"; chat leaves the oldest turns out so the conversation fits."""

from __future__ import annotations

import logging

import pytest

from evaluation.chat import open_chat
from evaluation.context import long_prompts_note, prompt_tokens
from tests.evaluation.tiny_alpaca import tiny_alpaca

LONG = "Explain how long to boil an egg, and add the two numbers. " * 3


@pytest.fixture()
def session(tmp_path_factory):
    session = open_chat(model=str(tiny_alpaca(tmp_path_factory)), temperature=0.0, max_new_tokens=4)
    session._backend.tokenizer.model_max_length = 256  # a short-context model
    return session


def test_chat_leaves_out_the_oldest_turns_and_says_so_once(session, caplog, capfd):
    with caplog.at_level(logging.WARNING):
        for _ in range(6):
            session.ask(LONG)
    notes = [r.getMessage() for r in caplog.records if "oldest turns are left out" in r.getMessage()]
    assert len(notes) == 1 and "context of 256 tokens" in notes[0]
    assert len(session.history) == 6  # the conversation is kept; only the prompt is shortened
    assert prompt_tokens(session._backend, session._fitting_prompt(LONG)) <= 256
    assert "indexing errors" not in capfd.readouterr().err


def test_eval_answer_says_how_many_prompts_outgrow_the_context(session, capfd):
    backend = session._backend
    note = long_prompts_note(backend, [session.format.render(LONG * 8, ""), session.format.render("Hi.", "")], "tiny")
    assert note.startswith("1 of 2 prompts are longer than tiny's context of 256 tokens")
    assert long_prompts_note(backend, [session.format.render("Hi.", "")], "tiny") is None
    assert "indexing errors" not in capfd.readouterr().err
