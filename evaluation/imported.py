"""Statistics from someone else's judgments: an AlpacaEval annotations.json, scored like our own."""

from __future__ import annotations

from pathlib import Path

from evaluation.annotations import annotation_scores, missing_preferences, read_annotations, scored_rows
from evaluation.difficulty import difficulty_for, read_difficulty
from evaluation.report import results_record
from evaluation.stats import pairwise_stats
from evaluation.verdicts import is_split


def _names(rows: list[dict], key: str) -> str:
    return ", ".join(sorted({str(r.get(key) or "unknown") for r in rows}))


def import_annotations(path: str | Path, *, difficulty: str | Path | None = None, n_boot: int = 2000, seed: int = 0,
                       level: float = 0.95) -> dict:
    """Results of generator_2 (A, the evaluated model) against generator_1 (B, the reference).

    Lengths are in characters (AlpacaEval's unit); categories come from each row's `dataset`.
    `difficulty` is AlpacaEval's instruction_difficulty.csv, for its length-controlled rate.
    """
    rows = read_annotations(path)
    kept = scored_rows(rows)
    if not kept:
        raise ValueError(f"{path}: no row has a preference")
    position = {id(row): i for i, row in enumerate(rows)}
    item_difficulty = (None if difficulty is None else
                       difficulty_for(kept, [position[id(r)] for r in kept], read_difficulty(difficulty), difficulty))
    categories = [r.get("dataset") for r in kept]
    result = pairwise_stats(annotation_scores(rows), len_a=[len(r["output_2"]) for r in kept],
                            len_b=[len(r["output_1"]) for r in kept],
                            categories=categories if all(categories) else None,
                            split=[is_split(r.get("verdict_a_first"), r.get("verdict_b_first")) for r in kept],
                            difficulty=item_difficulty, n_boot=n_boot, seed=seed, level=level)
    return results_record(result, model_a=_names(kept, "generator_2"), model_b=_names(kept, "generator_1"),
                          judge=_names(kept, "annotator"), source=str(path), missing=missing_preferences(rows),
                          instruction_difficulty=None if difficulty is None else str(difficulty),
                          level=level, n_boot=n_boot, seed=seed)
