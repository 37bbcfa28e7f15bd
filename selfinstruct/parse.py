"""Parse a model's reply in the numbered `###` format into candidate records (pure functions).

A reply continues the prompt from task `first_index`:

    Summarise the text in one sentence.
    4. Input:
    <text>
    4. Output:
    <summary>
    ###
    5. Instruction: ...

Completions models continue right after "4. Instruction:"; chat models usually repeat the label,
sometimes in Markdown bold. Both parse the same. Numbered lists inside an output ("1. Preheat the
oven") are left alone: only "N. Instruction:/Input:/Output:" labels split a reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selfinstruct.prompts import NOINPUT

# A label at the start of a line: optional Markdown emphasis, the task number, the field name.
_LABEL = re.compile(
    r"^[ \t]*[*_#]*[ \t]*(\d+)[ \t]*[.):][ \t]*[*_]*[ \t]*(instruction|input|output)[ \t]*[*_]*[ \t]*:[ \t]*[*_]*",
    re.IGNORECASE | re.MULTILINE,
)
_SEPARATOR = re.compile(r"^[ \t]*#{3,}[ \t]*$", re.MULTILINE)


@dataclass
class ParseResult:
    """Candidates in reply order, and counts of what could not be used, by reason."""

    records: list[dict] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1


def parse_completion(text: str, first_index: int, finish_reason: str | None = "stop") -> ParseResult:
    """Split a reply into {instruction, input, output} records.

    A task missing a field, or with an empty instruction or output, counts as `parse_incomplete`.
    When the reply was cut (`finish_reason == "length"`) its last task is dropped as `truncated`,
    since its output may be cut mid-sentence (Alpaca did the same).
    """
    result = ParseResult()
    if not _LABEL.match(text.lstrip("\n")):
        text = f"{first_index}. Instruction: {text.lstrip()}"
    tasks = _group_fields(text)
    if finish_reason == "length" and tasks:
        tasks.pop()
        result.fail("truncated")
    for fields in tasks:
        record = _to_record(fields)
        if record is None:
            result.fail("parse_incomplete")
        else:
            result.records.append(record)
    return result


def _group_fields(text: str) -> list[dict[str, str]]:
    """Group labelled spans by task number, in order of appearance."""
    labels = list(_LABEL.finditer(text))
    tasks: list[dict[str, str]] = []
    current_number = None
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        value = _SEPARATOR.split(text[m.end():end])[0].strip()
        number, name = int(m.group(1)), m.group(2).lower()
        if number != current_number or name in tasks[-1]:
            tasks.append({})
            current_number = number
        tasks[-1][name] = value
    return tasks


def _to_record(fields: dict[str, str]) -> dict | None:
    if not {"instruction", "input", "output"} <= fields.keys():
        return None
    instruction, inp, output = (fields[k] for k in ("instruction", "input", "output"))
    if not instruction or not output:
        return None
    if inp.strip().lower() == NOINPUT:
        inp = ""
    return {"instruction": instruction, "input": inp, "output": output}
