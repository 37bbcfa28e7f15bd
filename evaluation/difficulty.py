"""Per-instruction difficulty for the length-controlled win rate, from AlpacaEval's instruction_difficulty.csv.

AlpacaEval 2 publishes one difficulty per instruction of its 805 (a logit offset fitted once over
many models) on the Hugging Face Hub, not in its repository, as a CSV of `index,instruction_difficulty`
where `index` is the instruction's position in AlpacaEval's order, the order of its annotations
files. A CSV with an `instruction` column instead is matched on the instruction text.

    table = read_difficulty("instruction_difficulty.csv")
    difficulty = difficulty_for(rows, positions, table, "instruction_difficulty.csv")
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from records.errors import InputError
from records.files import read_text_utf8

COLUMN = "instruction_difficulty"
KEYS = ("instruction", "index")


def read_difficulty(path: str | Path) -> dict:
    """{position or instruction: difficulty}; an InputError naming the line and field when malformed."""
    lines = read_text_utf8(path, what="difficulty file").splitlines()
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    if COLUMN not in header:
        raise InputError(path, f"has no column {COLUMN!r} (has {header})", line=1)
    key = next((k for k in KEYS if k in header), header[0] if header[0] != COLUMN else None)
    if key is None:
        raise InputError(path, f"has no column to match rows on: give 'index' or 'instruction' beside {COLUMN!r}",
                         line=1)
    table: dict = {}
    for line, row in enumerate(reader, start=2):
        try:
            value = float(row[COLUMN])
        except (TypeError, ValueError):
            raise InputError(path, f"must be a number, got {row[COLUMN]!r}", line=line, field=COLUMN) from None
        if not math.isfinite(value):
            raise InputError(path, f"must be finite, got {row[COLUMN]!r}", line=line, field=COLUMN)
        table[row[key] if key == "instruction" else _position(row[key], path, line, key)] = value
    if not table:
        raise InputError(path, "holds no difficulty")
    return table


def _position(text, path, line: int, key: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        raise InputError(path, f"must be a whole number (a position), got {text!r}", line=line, field=key) from None


def difficulty_for(rows: list[dict], positions: list[int], table: dict, path) -> list[float]:
    """The difficulty of each row: by its instruction when the table is keyed so, else by its position
    in the annotations file. A row the table lacks is refused, naming it: a partial match would fit
    the difficulty's coefficient on a different set of instructions than the rest of the rate."""
    by_text = isinstance(next(iter(table)), str)
    out = []
    for row, position in zip(rows, positions):
        key = row["instruction"] if by_text else position
        if key not in table:
            what = f"instruction {row['instruction'][:60]!r}" if by_text else f"position {position}"
            raise InputError(path, f"has no difficulty for {what} of the annotations ({len(table)} entries)")
        out.append(table[key])
    return out
