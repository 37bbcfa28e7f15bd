"""Datasheet section: models trained on this version and how they scored."""

from __future__ import annotations

from registry.escape import md_table
from registry.evaluations import EVALUATION_COLUMNS, evaluation_rows


def evaluations(f: dict) -> str:
    out = ["## Models trained on this version\n"]
    models = f.get("trained_models") or []
    if not models:
        out.append("No model fine-tuned on this version is recorded.\n")
        return "\n".join(out)
    out.append("Win rates are pairwise, judged in both answer orders, with a bootstrap interval over "
               "instructions (`selfinstruct eval judge` / `eval compare`).\n")
    out.append(md_table(EVALUATION_COLUMNS, evaluation_rows(models)))
    return "\n".join(out)
