"""AlpacaEval's annotations.json: read, write, and turn `preference` into a score.

Each row compares `output_1` (by `generator_1`, the reference) with `output_2` (by `generator_2`,
the evaluated model). `preference` is 1 when output_1 won, 2 when output_2 won, 0 or 1.5 for a tie,
and any value in [1, 2] for a weighted judge (the probability that output_2 wins, plus 1). Weighted
files may store it as a string such as "1.0000001827".

Scores follow AlpacaEval's convention: `annotation_scores` is the score of the *second* generator,
the evaluated model: preference 1 -> 0.0, 2 -> 1.0, 0 or 1.5 -> 0.5, p in [1, 2] -> p - 1.
"""

from __future__ import annotations

import math
from pathlib import Path

from records.errors import InputError
from records.files import parse_json_objects, read_text_utf8, write_json_atomic

REQUIRED = ("instruction", "output_1", "output_2")


def preference_score(value) -> float | None:
    """output_2's score for one preference; None when missing or NaN; ValueError when out of range."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"preference must be a number, got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"preference must be a number, got {value!r}") from None
    if not isinstance(value, (int, float)):
        raise ValueError(f"preference must be a number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        return None
    if value == 0:
        return 0.5  # AlpacaEval's legacy draw
    if not 1 <= value <= 2:
        raise ValueError(f"preference {value!r} is not 0 or within [1, 2]")
    return value - 1


def preference_for(score: float | None) -> float | None:
    """The preference for output_2's score (the inverse of `preference_score`): 0 -> 1, 0.5 -> 1.5, 1 -> 2."""
    return None if score is None else 1 + score


def read_annotations(path: str | Path) -> list[dict]:
    """Rows of an annotations file (JSON list or JSON Lines), checked field by field."""
    return parse_annotations(read_text_utf8(path), path)


def parse_annotations(text: str, source) -> list[dict]:
    """Rows of an annotations file's text, checked field by field; errors name `source`."""
    rows = []
    for line, obj in parse_json_objects(text, source):
        for name in REQUIRED:
            if name not in obj:
                raise InputError(source, "is missing", line=line, field=name)
            if not isinstance(obj[name], str):
                raise InputError(source, f"must be a string, got {type(obj[name]).__name__}", line=line, field=name)
        try:
            preference_score(obj.get("preference"))
        except ValueError as e:
            raise InputError(source, str(e), line=line, field="preference") from None
        rows.append(obj)
    if not rows:
        raise InputError(source, "holds no annotations")
    return rows


def write_annotations(rows: list[dict], path: str | Path) -> None:
    """Write rows as a JSON list (AlpacaEval's layout), atomically."""
    write_json_atomic(path, rows)


def annotation_scores(rows: list[dict]) -> list[float]:
    """The evaluated model's (generator_2's) score per row; rows without a preference are skipped.

    `missing_preferences(rows)` counts the skipped rows; `scored_rows(rows)` gives the kept rows
    themselves, aligned with these scores.
    """
    return [score for _, score in _scored(rows)]


def scored_rows(rows: list[dict]) -> list[dict]:
    """The rows that have a preference, in order (aligned with `annotation_scores`)."""
    return [row for row, _ in _scored(rows)]


def missing_preferences(rows: list[dict]) -> int:
    """Rows whose preference is missing or NaN."""
    return len(rows) - len(_scored(rows))


def _scored(rows: list[dict]) -> list[tuple[dict, float]]:
    out = []
    for i, row in enumerate(rows):
        try:
            score = preference_score(row.get("preference"))
        except ValueError as e:
            raise ValueError(f"row {i}: {e}") from None
        if score is not None:
            out.append((row, score))
    return out
