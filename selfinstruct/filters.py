"""Quality heuristics: small named checks, each returning a drop reason or None.

Profile `alpaca` reproduces the filters of Alpaca's generate_instruction.py exactly (they look at
the instruction only). Profile `strict` (the default) adds checks for the defects that
AlpacaDataCleaned later had to fix by hand in the 52K release: empty or "N/A" outputs, leaked
`<noinput>` markers, instructions that refer to an input that is not there, refusals, outputs that
repeat the instruction, and control characters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from records.schema import RECORD_FIELDS

Check = Callable[[dict], str | None]

# Alpaca's blacklist: tasks a text-only model cannot do (images, files, audio, real-world actions).
BLOCKED_WORDS = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                 "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram")
_BLOCKED = re.compile(r"\b(" + "|".join(re.escape(w) for w in BLOCKED_WORDS) + r")\b", re.IGNORECASE)


def too_short(rec: dict) -> str | None:
    """`too_short`: three words or fewer ("Name a fruit" is fine, "Translate this." is not)."""
    return "too_short" if len(rec["instruction"].split()) <= 3 else None


def too_long(rec: dict) -> str | None:
    """`too_long`: more than 150 words, usually a prompt leak or a run-on."""
    return "too_long" if len(rec["instruction"].split()) > 150 else None


def blocked_word(rec: dict) -> str | None:
    """`blocked_word`: a whole-word, case-insensitive hit of Alpaca's list ("Draw a map of France.")."""
    return "blocked_word" if _BLOCKED.search(rec["instruction"]) else None


def write_a_program(rec: dict) -> str | None:
    """`write_a_program`: Alpaca dropped these because the outputs were rarely runnable."""
    return "write_a_program" if rec["instruction"].startswith("Write a program") else None


def starts_with_punctuation(rec: dict) -> str | None:
    """`starts_with_punctuation`: usually a parse artefact ("- List three...", "2) Name...")."""
    inst = rec["instruction"]
    return "starts_with_punctuation" if inst and inst[0] in string.punctuation else None


def non_ascii_start(rec: dict) -> str | None:
    """`non_ascii_start`: for English runs, a first character outside ASCII signals another language."""
    inst = rec["instruction"]
    return "non_ascii_start" if inst and not inst[0].isascii() else None


# --- strict additions -------------------------------------------------------------------------

_NA_OUTPUTS = {"", "n/a", "na", "none", "null", "nil", "-", "--", "...", "no output", "not applicable",
               "no output.", "n/a."}  # "<nooutput>" and its spellings: _NO_OUTPUT_MARKER below


# The marker Alpaca's generator prompt asks for when no output is possible, sometimes followed by why
_NO_OUTPUT_MARKER = re.compile(r"\s*<\s*no\s*-?\s*output\s*>", re.IGNORECASE)


def empty_output(rec: dict) -> str | None:
    """`empty_output`: blank or placeholder outputs ("N/A", "<nooutput>", "<nooutput> This type of
    instruction cannot be fulfilled..."), ~200 of them in Alpaca's 52K."""
    output = rec["output"]
    return "empty_output" if output.strip().lower() in _NA_OUTPUTS or _NO_OUTPUT_MARKER.match(output) else None


def noinput_leak(rec: dict) -> str | None:
    """`noinput_leak`: the `<noinput>` marker copied into a field instead of being left empty."""
    fields = (rec["instruction"], rec.get("input", ""), rec["output"])
    return "noinput_leak" if any("<noinput>" in f.lower() for f in fields) else None


_REFERS_TO_INPUT = re.compile(
    r"\b(the following|the given (text|sentence|passage|paragraph|article|list|input|data|code|poem|story|email|"
    r"table|statement|words?|phrase|document|review|dialogue|conversation|numbers?)|(this|the provided|the above"
    r"|the below) (text|sentence|passage|paragraph|article|list|input|code|poem|story|email|table|statement|"
    r"document|review|dialogue|conversation)|below)\b",
    re.IGNORECASE,
)


# After the reference, a colon, quote, question mark, dash or new line followed by text means the
# input is given inline:
# "Classify the following fruit: Apple" is complete.
_INLINE = re.compile(r"([:\n\"“'«?–—]|\s-)\s*\S")


def missing_input(rec: dict) -> str | None:
    """`missing_input`: "Summarise the following article." with an empty input and nothing inline."""
    if rec.get("input", "").strip():
        return None
    m = _REFERS_TO_INPUT.search(rec["instruction"])
    return "missing_input" if m and not _INLINE.search(rec["instruction"], m.end()) else None


_REFUSAL = re.compile(
    r"\b(as an ai( language)? model|as a language model|i'?m sorry,? but i (cannot|can't|am unable)|"
    r"i (cannot|can't|am unable to) (fulfil|fulfill|complete|comply|provide|help with) (this|that|your))",
    re.IGNORECASE,
)


def refusal(rec: dict) -> str | None:
    """`refusal`: the generator declined ("As an AI language model, I cannot...")."""
    lowered = rec["output"].lower()
    if "model" not in lowered and "i can" not in lowered and "i'm sorry" not in lowered and "i am unable" not in lowered:
        return None  # a substring test first: the regex below is ten times slower
    return "refusal" if _REFUSAL.search(lowered) else None


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def echo_output(rec: dict) -> str | None:
    """`echo_output`: the output merely repeats the instruction."""
    output, instruction = rec["output"], rec["instruction"]
    if len(output) > 2 * len(instruction) + 16:  # far longer than the instruction: cannot be a repeat
        return None
    out = _normalise(output)
    return "echo_output" if out and out == _normalise(instruction) else None


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; tab, newline and CR are fine.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_characters(rec: dict) -> str | None:
    """`control_characters`: C0/C1 control characters other than tab and newline in any field."""
    for key in RECORD_FIELDS:
        if _CONTROL.search(rec.get(key, "")):
            return "control_characters"
    return None


ALPACA_CHECKS: tuple[Check, ...] = (too_short, too_long, blocked_word, write_a_program, starts_with_punctuation,
                                    non_ascii_start)
STRICT_EXTRA: tuple[Check, ...] = (empty_output, noinput_leak, missing_input, refusal, echo_output, control_characters)
PROFILES = ("alpaca", "strict")


def checks_for(profile: str = "strict", language: str = "en") -> tuple[Check, ...]:
    """The checks of a profile. `alpaca` is exact; under `strict` the non-ASCII first-character
    check applies to English runs only."""
    if profile not in PROFILES:
        raise ValueError(f"unknown filter profile {profile!r}; choose one of {', '.join(PROFILES)}")
    checks = ALPACA_CHECKS + (STRICT_EXTRA if profile == "strict" else ())
    if profile == "strict" and language.lower() not in ("en", "english"):
        checks = tuple(c for c in checks if c is not non_ascii_start)
    return checks


def instruction_checks(checks: tuple[Check, ...]) -> tuple[Check, ...]:
    """The checks that read the instruction alone (Alpaca's), for a candidate that has no instance yet."""
    return tuple(c for c in checks if c in ALPACA_CHECKS)


def filter_reason(record: dict, *, profile: str = "strict", language: str = "en") -> str | None:
    """The first failing check's reason, or None to keep the record."""
    return first_reason(record, checks_for(profile, language))


def first_reason(record: dict, checks: tuple[Check, ...]) -> str | None:
    for check in checks:
        reason = check(record)
        if reason:
            return reason
    return None
