"""Read uploaded answer files (AlpacaEval model outputs) and judge annotations, and pair them by instruction."""

from __future__ import annotations

import json

from records.errors import InputError


def parse_outputs(data: bytes, label: str) -> list[dict]:
    """A JSON list of {instruction, input?, output, generator?}; InputError names the item and field."""
    rows = _json_list(data, label)
    for k, row in enumerate(rows):
        for field in ("instruction", "output"):
            if not isinstance(row.get(field), str):
                raise InputError(label, f"item {k}: field {field!r} must be text")
        if row.get("input") is not None and not isinstance(row["input"], str):
            raise InputError(label, f"item {k}: field 'input' must be text")
    return rows


def generator(rows: list[dict], fallback: str) -> str:
    names = sorted({str(r["generator"]) for r in rows if r.get("generator")})
    return names[0] if len(names) == 1 else fallback


def pair(rows_1: list[dict], rows_2: list[dict]) -> tuple[list[dict], int]:
    """Items present in both files, keyed by (instruction, input), in the first file's order; and how many were left unpaired."""
    def key(r):
        return r["instruction"], r.get("input") or ""
    second = {}
    for r in rows_2:
        second.setdefault(key(r), r)
    items, seen = [], set()
    for r in rows_1:
        k = key(r)
        if k in second and k not in seen:
            seen.add(k)
            items.append({"instruction": k[0], "input": k[1], "output_1": r["output"], "output_2": second[k]["output"]})
    return items, len(rows_1) + len(rows_2) - 2 * len(items)


def parse_annotations(data: bytes, label: str) -> list[dict]:
    """AlpacaEval annotations: {instruction, output_1, output_2, generator_1?, generator_2?, preference}."""
    rows = _json_list(data, label)
    for k, row in enumerate(rows):
        if not isinstance(row.get("instruction"), str):
            raise InputError(label, f"item {k}: field 'instruction' must be text")
        pref = row.get("preference")
        if pref is not None and not isinstance(pref, (int, float)):
            raise InputError(label, f"item {k}: field 'preference' must be a number (1, 2, or between)")
    return rows


def _json_list(data: bytes, label: str) -> list[dict]:
    try:
        rows = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError(label, f"not a JSON file ({e})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InputError(label, "expected a JSON list of objects")
    if not rows:
        raise InputError(label, "the list is empty")
    return rows
