"""Parse a model's reply in the numbered `###` format into candidate records (pure functions).

A reply continues the prompt from task `first_index`:

    Summarise the text in one sentence.
    4. Input:
    <text>
    4. Output:
    <summary>
    ###
    5. Instruction: ...

Two parsers, chosen by the filter profile:

- `strict` (the default) reads what models actually write. Completions models continue right
  after "4. Instruction:"; chat models repeat the label, sometimes in Markdown bold or as a
  heading (`#### 4 Instruction:`), with or without the dot; small models number every label
  anew (`4. Input:` then `5. Output:`), write `Instructions:`, or drop the number. A new task
  starts at every Instruction label, whatever its number; Input and Output labels belong to the
  task they follow. A leading bullet (`* `, `- `) is cleaned off the instruction.
- `alpaca` is Alpaca's own parser (generate_instruction.py): split on `###`, then each chunk on
  `{n}. Instruction|Input|Output:` with n counting up from `first_index`, keeping chunks that split
  into exactly the three fields; the text is checked as parsed, so a bulleted instruction meets
  the leading-punctuation check. Its one accommodation: a reply that itself begins with the label
  the prompt ended with (chat models repeat it) is not given a second one.

Numbered lists inside an output ("1. Preheat the oven") are left alone: only labels split a reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from records.schema import RECORD_FIELDS
from selfinstruct.prompts import NOINPUT

# A label at the start of a line: optional Markdown emphasis or heading marks, an optional task
# number with optional punctuation, the field name (Instruction may be plural), a colon.
_LABEL = re.compile(
    r"^[ \t]*[*_#]*[ \t]*(?:(\d+)[ \t]*[.):]?[ \t]*)?[*_]*[ \t]*(instructions?|input|output)[ \t]*[*_]*[ \t]*:"
    r"[ \t]*[*_]*",
    re.IGNORECASE | re.MULTILINE,
)
_SEPARATOR = re.compile(r"^[ \t]*#{3,}[ \t]*$", re.MULTILINE)
_BULLET = re.compile(r"^(?:[*\-•][ \t]+)+")


@dataclass
class ParseResult:
    """Candidates in reply order, and those that could not be used: (what was read of it, reason)."""

    records: list[dict] = field(default_factory=list)
    rejected: list[tuple[dict, str]] = field(default_factory=list)

    def fail(self, reason: str, fields: dict[str, str]) -> None:
        self.rejected.append(({k: fields.get(k, "") for k in RECORD_FIELDS}, reason))

    @property
    def failures(self) -> dict[str, int]:
        """Rejected candidates by reason."""
        counts: dict[str, int] = {}
        for _, reason in self.rejected:
            counts[reason] = counts.get(reason, 0) + 1
        return counts


def parse_completion(text: str, first_index: int, finish_reason: str | None = "stop",
                     profile: str = "strict") -> ParseResult:
    """Split a reply into {instruction, input, output} records, with the parser of `profile`.

    A task missing a field (or, under strict, with an empty instruction or output) counts as
    `parse_incomplete`. When the reply was cut (`finish_reason == "length"`) its last task is
    dropped as `truncated`, since its output may be cut mid-sentence (Alpaca did the same).
    """
    if profile == "alpaca":
        return _parse_alpaca(text, first_index, finish_reason)
    result = ParseResult()
    if not _LABEL.match(text.lstrip("\n")):
        text = f"{first_index}. Instruction: {text.lstrip()}"
    tasks = _group_fields(text)
    if finish_reason == "length" and tasks:
        result.fail("truncated", tasks.pop())
    for fields in tasks:
        record = _to_record(fields)
        if record is None:
            result.fail("parse_incomplete", fields)
        else:
            result.records.append(record)
    return result


def _group_fields(text: str) -> list[dict[str, str]]:
    """Labelled spans grouped into tasks: a new task at each Instruction label (or a repeated field)."""
    labels = list(_LABEL.finditer(text))
    tasks: list[dict[str, str]] = []
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        value = _SEPARATOR.split(text[m.end():end])[0].strip()
        name = m.group(2).lower()
        name = "instruction" if name.startswith("instruction") else name
        if name == "instruction" or not tasks or name in tasks[-1]:
            tasks.append({})
        tasks[-1][name] = value
    return tasks


def _to_record(fields: dict[str, str]) -> dict | None:
    if not set(RECORD_FIELDS) <= fields.keys():
        return None
    instruction, inp, output = (fields[k] for k in RECORD_FIELDS)
    instruction = _BULLET.sub("", instruction)
    if not instruction or not output:
        return None
    if inp.strip().lower() == NOINPUT:
        inp = ""
    return {"instruction": instruction, "input": inp, "output": output}


def _parse_alpaca(text: str, first_index: int, finish_reason: str | None) -> ParseResult:
    """Alpaca's post_process_gpt3_response, parsing only (its checks are the `alpaca` filters)."""
    result = ParseResult()
    label = f"{first_index}. Instruction:"
    raw = text if text.lstrip().startswith(label) else label + text
    chunks = re.split("###", raw)
    for idx, chunk in enumerate(chunks):
        parts = re.split(rf"{idx + first_index}\.\s+(Instruction|Input|Output):", chunk)
        if idx == len(chunks) - 1 and finish_reason == "length":
            if chunk.strip():
                result.fail("truncated", _labelled(parts))
            continue
        if len(parts) != 7:
            if chunk.strip():
                result.fail("parse_incomplete", _labelled(parts))
            continue
        inp = parts[4].strip()
        result.records.append({"instruction": parts[2].strip(), "input": "" if inp.lower() == NOINPUT else inp,
                               "output": parts[6].strip()})
    return result


def _labelled(parts: list[str]) -> dict[str, str]:
    """What an Alpaca chunk's split holds, by field: text before the first label counts as its instruction."""
    fields = {"instruction": parts[0].strip()} if parts[0].strip() else {}
    for label, value in zip(parts[1::2], parts[2::2]):
        fields[label.lower()] = value.strip()
    return fields
