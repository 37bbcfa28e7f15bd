"""The judge scorer: an LLM rates each record from 0 to 5 (halves allowed) with a short reason.

    template = load_rubric()                          # or load_rubric("my_rubric.txt")
    prompt = template.render(record)                  # the record between tagged markers
    score, reason, problem = parse_score(reply_text, finish_reason)

Requests go through the request layer (`modelcalls`): concurrent, rate-limited, retried, journaled
(a rerun sends nothing for a record already scored), priced, stopped before --max-cost. A reply
whose last line is not `Score: N` with N in 0, 0.5, ... 5 is never guessed: its score is missing and
the problem is counted.
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

REQUIRED = ("instruction", "input", "output")
SCORE_LINE = re.compile(r"\s*Score:\s*(\d+(?:\.\d+)?)\s*")
MAX_REASON_CHARS = 2000
EXPECTED_REPLY_TOKENS = 120  # a reason of a few sentences and the score line, for --dry-run


@dataclass(frozen=True)
class Rubric:
    """A scoring prompt with {instruction} {input} {output} (and, optionally, {tag} on its markers)."""

    text: str
    path: str
    sha256: str

    def render(self, record: dict) -> str:
        values = {k: str(record.get(k) or "") for k in REQUIRED}
        if "{tag}" in self.text:
            values["tag"] = block_tag(*values.values())
        out = self.text
        for key, value in values.items():  # plain replacement: braces in records stay as written
            out = out.replace("{" + key + "}", value)
        return out


def load_rubric(path: str | Path | None = None) -> Rubric:
    """The shipped rubric, or a user's file holding {instruction}, {input} and {output}."""
    if path is None:
        text = resources.files("curation").joinpath("templates/score_record.txt").read_text(encoding="utf-8")
        where = "curation/templates/score_record.txt"
    else:
        text, where = read_text_utf8(path, what="rubric file"), str(path)
    missing = [p for p in REQUIRED if "{" + p + "}" not in text]
    if missing:
        raise InputError(where, "lacks the placeholder(s) " + ", ".join("{" + p + "}" for p in missing))
    return Rubric(text, where, hashlib.sha256(text.encode()).hexdigest())


def parse_score(text: str, finish_reason: str | None = "stop") -> tuple[float | None, str | None, str | None]:
    """(score, reason, problem): the score from the reply's last line, the text before it as the
    reason; or no score and why ("truncated", "unparseable", "out_of_range")."""
    if finish_reason not in (None, "stop"):
        return None, None, "truncated"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    match = SCORE_LINE.fullmatch(lines[-1]) if lines else None
    if match is None:
        return None, None, "unparseable"
    score = float(match.group(1))
    if not 0 <= score <= 5 or score * 2 != int(score * 2):
        return None, None, "out_of_range"
    reason = "\n".join(lines[:-1]).strip()[:MAX_REASON_CHARS] or None
    return score, reason, None
