"""From a judge run's journaled replies to per-item verdicts, annotations.json rows and results.

An item's score for A is the mean of its two orders' scores; an item with an order missing,
unparseable or truncated gets no score (it is counted, never guessed from the other order, which
would bring the position bias back).
"""

from __future__ import annotations

from evaluation.annotations import preference_for
from evaluation.report import results_record
from evaluation.stats import pairwise_stats
from evaluation.verdicts import A_FIRST, B_FIRST, is_split, parse_verdict, score_of_a


def item_verdicts(run, n_items: int) -> list[dict]:
    """{a_first, b_first (verdicts or "missing"), raw texts, score (A's, or None)} per item."""
    by_id = {r["id"]: r for r in run.state.responses}
    items = [{A_FIRST: "missing", B_FIRST: "missing", "raw": {}} for _ in range(n_items)]
    for request in run.requests:
        response = by_id.get(request["id"])
        if response is None:
            continue
        completion = response["completions"][0]
        item = items[request["item"]]
        item[request["order"]] = parse_verdict(completion["text"], completion.get("finish_reason"))
        item["raw"][request["order"]] = completion["text"]
    for item in items:
        scores = [score_of_a(order, item[order]) for order in (A_FIRST, B_FIRST)]
        item["score"] = None if None in scores else sum(scores) / 2
    return items


def annotation_rows(pairs: list[dict], items: list[dict], *, model_a: str, model_b: str, judge: str) -> list[dict]:
    """AlpacaEval annotations: output_1 = A, output_2 = B; preference 1 when A won, 2 when B won,
    1.5 for a tie, null when the item has no score; plus both raw verdicts and replies."""
    rows = []
    for pair, item in zip(pairs, items):
        rows.append({
            "instruction": pair["instruction"], "input": pair["input"],
            "output_1": pair["output_a"], "generator_1": model_a,
            "output_2": pair["output_b"], "generator_2": model_b,
            "dataset": pair["category"], "annotator": judge,
            "preference": preference_for(None if item["score"] is None else 1 - item["score"]),
            "verdict_a_first": item[A_FIRST], "verdict_b_first": item[B_FIRST],
            "raw_a_first": item["raw"].get(A_FIRST), "raw_b_first": item["raw"].get(B_FIRST),
        })
    return rows


def verdict_counts(items: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for item in items:
        for order in (A_FIRST, B_FIRST):
            counts[item[order]] = counts.get(item[order], 0) + 1
    return counts


def position_consistency(items: list[dict]) -> tuple[float | None, int]:
    """Share of fully judged items whose two orders name the same winner (or both a tie), and how many."""
    both = [i for i in items if i["score"] is not None]
    if not both:
        return None, 0
    same = sum(1 for i in both if score_of_a(A_FIRST, i[A_FIRST]) == score_of_a(B_FIRST, i[B_FIRST]))
    return same / len(both), len(both)


def longer_preferred(pairs: list[dict], items: list[dict]) -> tuple[float | None, int]:
    """How often the longer answer won, over single verdicts between answers of different length
    (ties and unparsed verdicts left out): a judge's length bias, AlpacaEval's P(longer)."""
    won = total = 0
    for pair, item in zip(pairs, items):
        a_longer = len(pair["output_a"]) > len(pair["output_b"])
        if len(pair["output_a"]) == len(pair["output_b"]):
            continue
        for order in (A_FIRST, B_FIRST):
            score = score_of_a(order, item[order])
            if score in (0.0, 1.0):
                total += 1
                won += (score == 1.0) == a_longer
    return (won / total if total else None), total


def judge_results(run, pairs: list[dict], cfg, *, model_a: str, model_b: str, unmatched: dict) -> tuple[dict, list]:
    """(results dict, annotations rows) for a judge run."""
    items = item_verdicts(run, len(pairs))
    rows = annotation_rows(pairs, items, model_a=model_a, model_b=model_b, judge=cfg.judge_model)
    scored = [(p, i) for p, i in zip(pairs, items) if i["score"] is not None]
    counts = verdict_counts(items)
    consistency, consistent_over = position_consistency(items)
    longer, longer_over = longer_preferred(pairs, items)
    extra = {
        "judge": cfg.judge_model, "prompt_sha256": run.identity.get("prompt_sha256"),
        "prompt_path": run.identity.get("prompt_path"), "a_sha256": run.identity.get("a_sha256"),
        "b_sha256": run.identity.get("b_sha256"), "items_paired": len(pairs), "unmatched": unmatched,
        "items_scored": len(scored), "verdicts": counts,
        "unparseable": counts.get("unparseable", 0), "truncated": counts.get("truncated", 0),
        "missing_replies": counts.get("missing", 0),
        "position_consistency": consistency, "position_consistency_over": consistent_over,
        "longer_preferred": longer, "longer_preferred_over": longer_over,
        "usage": run.usage.to_dict(), "stopped_by": run.stopped_by, "run_dir": str(run.run_dir),
        "level": cfg.level, "n_boot": cfg.n_boot, "seed": cfg.seed,
    }
    if not scored:
        return {"model_a": model_a, "model_b": model_b, "n": 0, **extra}, rows
    cats = [p["category"] for p, _ in scored]
    result = pairwise_stats([i["score"] for _, i in scored], len_a=[len(p["output_a"]) for p, _ in scored],
                            len_b=[len(p["output_b"]) for p, _ in scored],
                            categories=cats if all(cats) else None,
                            split=[is_split(i[A_FIRST], i[B_FIRST]) for _, i in scored], n_boot=cfg.n_boot,
                            seed=cfg.seed, level=cfg.level)
    return results_record(result, model_a=model_a, model_b=model_b, **extra), rows
