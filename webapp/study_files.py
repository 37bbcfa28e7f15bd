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
    """Items present in both files, in the first file's order, and how many answers were left unpaired.
    Paired on the request text as `eval judge` pairs them (`evaluation.outputs.request_key`), so an
    answer with a separate input pairs with a published AlpacaEval output that folds it in."""
    from evaluation.outputs import request_key

    second = {}
    for r in rows_2:
        second.setdefault(request_key(r), r)
    items, seen = [], set()
    for r in rows_1:
        k = request_key(r)
        if k in second and k not in seen:
            seen.add(k)
            items.append({"instruction": r["instruction"], "input": r.get("input") or "", "output_1": r["output"],
                          "output_2": second[k]["output"]})
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


def pairs_from_annotations(rows: list[dict], label: str) -> list[dict]:
    """The pairs an `eval judge` / `eval compare` judged, from its annotations.json (output_1 is A's answer)."""
    items, seen = [], set()
    for k, row in enumerate(rows):
        for field in ("output_1", "output_2"):
            if not isinstance(row.get(field), str):
                raise InputError(label, f"item {k}: field {field!r} must be text (an annotations.json of "
                                        "`selfinstruct eval judge` or `eval compare` holds both answers)")
        key = (row["instruction"], row.get("input") or "")
        if key not in seen:
            seen.add(key)
            items.append({"instruction": key[0], "input": key[1], "output_1": row["output_1"],
                          "output_2": row["output_2"]})
    return items


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
