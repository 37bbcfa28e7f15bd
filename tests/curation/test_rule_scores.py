"""Rule scorers: exact lengths, and each quality check as 0/1 on a record made to fail it."""

from __future__ import annotations

import pytest

from curation.rule_scores import RULE_NAMES, rule_scores
from modelcalls.errors import ConfigError

CLEAN = {"instruction": "List three primary colours of paint.", "input": "", "output": "Red, yellow and blue."}

# One record per check that fails it and no other check.
FAILS = {
    "too_short": {"instruction": "Name it."},
    "too_long": {"instruction": "Explain " + "why " * 150 + "it rains."},
    "blocked_word": {"instruction": "Draw a map of France for me."},
    "write_a_program": {"instruction": "Write a program that adds two numbers."},
    "starts_with_punctuation": {"instruction": "- List three colours of a flag."},
    "non_ascii_start": {"instruction": "¿Qué hora es ahora mismo?"},
    "empty_output": {"output": "N/A"},
    "noinput_leak": {"input": "<noinput>"},
    "missing_input": {"instruction": "Summarize the following article in one sentence."},
    "refusal": {"output": "As an AI language model, I cannot do that."},
    "echo_output": {"output": "List three primary colours of paint."},
    "control_characters": {"output": "Red,\x07 yellow and blue."},
}


def test_the_names_are_the_lengths_then_every_strict_check_then_all_checks():
    assert RULE_NAMES == ("output_words", "instruction_words", *(f"passes_{c}" for c in FAILS), "passes_all_checks")


def test_lengths_are_whitespace_separated_words():
    rows = [CLEAN, {"instruction": "  Say\thello\n twice. ", "input": "x", "output": ""}]
    assert rule_scores(rows, "output_words") == [4.0, 0.0]
    assert rule_scores(rows, "instruction_words") == [6.0, 3.0]


@pytest.mark.parametrize("check", sorted(FAILS))
def test_each_check_is_zero_on_the_record_that_fails_it_and_one_elsewhere(check):
    failing = {**CLEAN, **FAILS[check]}
    assert rule_scores([CLEAN, failing], f"passes_{check}") == [1.0, 0.0]
    others = [name for name in FAILS if name != check]
    assert all(rule_scores([failing], f"passes_{name}") == [1.0] for name in others)
    assert rule_scores([CLEAN, failing], "passes_all_checks") == [1.0, 0.0]


def test_an_unknown_name_is_a_config_error_listing_the_names():
    with pytest.raises(ConfigError, match="unknown rule scorer 'judge'; choose one of output_words, instruction_words"):
        rule_scores([CLEAN], "judge")
