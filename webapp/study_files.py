"""A study's items and judgments from answer files and annotations already read by `evaluation`.

Reading and checking the uploads is the evaluation readers' (`parse_model_outputs`,
`parse_annotations`), the ones `eval judge` uses; what is the web app's own is the shape a study
wants: items of {instruction, input, output_1, output_2}, the judgments it keeps, and a system's
name when its files name none ("system 1", "system 2").
"""

from __future__ import annotations

import json

from evaluation.annotations import preference_for, preference_score
from evaluation.outputs import ModelOutputs, pair_outputs

JUDGE_FIELDS = ("instruction", "input", "generator_1", "generator_2", "preference")


def items_from_answers(a: ModelOutputs, b: ModelOutputs) -> tuple[list[dict], int]:
    """Items answered by both systems, in A's order, and how many answers were left unpaired.
    Paired on the request text as `eval judge` pairs them, so an answer with a separate input
    pairs with a published AlpacaEval output that folds it in."""
    pairs, unmatched = pair_outputs(a, b)
    items = [{"instruction": p["instruction"], "input": p["input"], "output_1": p["output_a"],
              "output_2": p["output_b"]} for p in pairs]
    return items, unmatched["only_a"] + unmatched["only_b"]


def pairs_from_annotations(rows: list[dict]) -> list[dict]:
    """The pairs the judge saw, once each, in file order: a study rates the same ones."""
    items, seen = [], set()
    for row in rows:
        key = (row["instruction"], row.get("input") or "")
        if key not in seen:
            seen.add(key)
            items.append({"instruction": key[0], "input": key[1], "output_1": row["output_1"],
                          "output_2": row["output_2"]})
    return items


def judge_rows(rows: list[dict]) -> str:
    """The judgments a study keeps, as JSON; a preference written as text ("1.0000001827") or as
    AlpacaEval's legacy draw 0 becomes the number it stands for, in [1, 2]."""
    kept = []
    for row in rows:
        preference = preference_for(preference_score(row.get("preference")))
        kept.append({**{k: row.get(k) for k in JUDGE_FIELDS}, "preference": preference})
    return json.dumps(kept)


def generator(names, fallback: str) -> str:
    """The one name among `names`, else `fallback` (no name, or several)."""
    distinct = sorted({str(n) for n in names if n})
    return distinct[0] if len(distinct) == 1 else fallback
