"""The judge prompt and its verdicts: render one comparison, parse one reply strictly.

A reply is parsed only when exactly one of `[[A]]`, `[[B]]`, `[[C]]` occurs in it (any number of
times) and the reply was not cut off by the token limit. Anything else is "unparseable" or
"truncated": counted and reported, never guessed.

The texts are quoted between markers that carry the comparison's tag (`block_tag`), which none of
the texts contains, so no answer can close its own block and write a forged one after it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from records.errors import InputError
from records.files import read_text_utf8
from records.quoting import block_tag

PLACEHOLDERS = ("instruction", "input", "output_a", "output_b", "tag")
REQUIRED = ("instruction", "output_a", "output_b")
"""Hex digits of a block tag: 32 bits, enough that no text holds it by chance (and one that does gets another)."""
VERDICT = re.compile(r"\[\[([ABC])\]\]")
A_FIRST, B_FIRST = "a_first", "b_first"


@dataclass(frozen=True)
class JudgeTemplate:
    text: str
    path: str
    sha256: str

    def render(self, *, instruction: str, input: str, output_a: str, output_b: str) -> str:  # noqa: A002
        """Fill the placeholders in one pass, so braces inside answers are left alone; `{tag}` is the
        comparison's block tag, which none of the four texts contains."""
        values = {"instruction": instruction, "input": input, "output_a": output_a, "output_b": output_b}
        values["tag"] = block_tag(*values.values())
        return re.sub(r"\{(" + "|".join(PLACEHOLDERS) + r")\}", lambda m: values[m.group(1)], self.text)


def load_judge_template(path: str | Path | None = None) -> JudgeTemplate:
    """The shipped judge prompt, or a user's file with {instruction} {input} {output_a} {output_b}."""
    if path is None:
        text = resources.files("evaluation").joinpath("templates/judge_pairwise.txt").read_text(encoding="utf-8")
        where = "evaluation/templates/judge_pairwise.txt"
    else:
        text = read_text_utf8(path, what="judge prompt file")
        where = str(path)
    missing = [p for p in REQUIRED if "{" + p + "}" not in text]
    if missing:
        raise InputError(where, f"lacks the placeholder(s) {', '.join('{' + m + '}' for m in missing)}")
    return JudgeTemplate(text, where, hashlib.sha256(text.encode()).hexdigest())


def parse_verdict(text: str, finish_reason: str | None = "stop") -> str:
    """"A", "B" or "C" (tie); "truncated" when the reply hit the token limit; else "unparseable"."""
    if finish_reason == "length":
        return "truncated"
    found = set(VERDICT.findall(text or ""))
    return found.pop() if len(found) == 1 else "unparseable"


def is_split(first: str | None, second: str | None) -> bool:
    """One order's verdict a decision and the other's a tie: the item scores 0.75 or 0.25, which MT-Bench
    counts as a tie (its two orders disagree); the statistics count it apart from wins and losses."""
    return {first, second} in ({"A", "C"}, {"B", "C"})


def score_of_a(order: str, verdict: str) -> float | None:
    """Model A's score from one order's verdict: who was shown as "A" depends on the order."""
    if verdict == "C":
        return 0.5
    if verdict not in ("A", "B"):
        return None
    first_won = verdict == "A"
    return float(first_won) if order == A_FIRST else float(not first_won)
