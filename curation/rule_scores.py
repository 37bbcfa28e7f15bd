"""Cheap rule scorers: lengths in words, and the generator's quality checks as 0/1.

Each check of the keep/drop stage's `strict` profile (selfinstruct/filters.py, English) becomes a
scorer `passes_<check>`: 1.0 when the record passes it, 0.0 when the stage would drop the record
for it; `passes_all_checks` is 1.0 when it passes every one, as the stage's first step keeps it.
Higher is better for every 0/1 scorer, so `passes_refusal>=1` keeps what passes. The stage's
ROUGE-L and MinHash steps are not scorers: they depend on the records before a record, not on the
record alone (`registry dedup` runs them on a version).

    rule_scores([{"instruction": "Name it.", "input": "", "output": "A cat."}], "passes_too_short")  # [0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from modelcalls.errors import ConfigError
from selfinstruct.filters import Check, checks_for, first_reason

CHECKS: tuple[Check, ...] = checks_for("strict", "en")


def output_words(record: dict) -> float:
    """Words in the output, split on whitespace (as the checks count them)."""
    return float(len(record["output"].split()))


def instruction_words(record: dict) -> float:
    return float(len(record["instruction"].split()))


def passes(check: Check) -> Callable[[dict], float]:
    """A 0/1 scorer from a check: 1.0 when `check` returns no drop reason."""
    return lambda record: 0.0 if check(record) else 1.0


def passes_all_checks(record: dict) -> float:
    return 0.0 if first_reason(record, CHECKS) else 1.0


RULES: dict[str, Callable[[dict], float]] = {
    "output_words": output_words,
    "instruction_words": instruction_words,
    **{f"passes_{check.__name__}": passes(check) for check in CHECKS},
    "passes_all_checks": passes_all_checks,
}
RULE_NAMES: tuple[str, ...] = tuple(RULES)


def rule_scores(records: Sequence[dict], name: str) -> list[float]:
    """The rule scorer `name` over `records`, one float per record."""
    if name not in RULES:
        raise ConfigError(f"unknown rule scorer {name!r}; choose one of {', '.join(RULE_NAMES)}")
    rule = RULES[name]
    return [rule(record) for record in records]
