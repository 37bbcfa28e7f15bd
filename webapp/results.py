"""A study's results: win rate with its interval (evaluation.stats), per rater, agreement, judge agreement.

Votes are listed per rater, with how each joined (the shared link or a personal one) and a flag on
a rater whose browser joined more than once. Each item's score is system 1's share of the votes on it (1 won, 0 lost, 0.5 tie; the mean over
raters when several rated it), so raters who overlap do not count an item twice in the interval.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from itertools import combinations

from evaluation.annotations import preference_for, preference_score

LABELS = {1.0: "system_1", 2.0: "system_2", 1.5: "tie"}


def label(preference: float) -> str:
    """AlpacaEval preference (1 = output_1 better, 2 = output_2 better, in between = weighted) as a label."""
    score = preference_score(preference)
    return "system_1" if score < 0.5 else "system_2" if score > 0.5 else "tie"


def first_score(preference: float) -> float:
    """System 1's score for a preference (the rule is evaluation/annotations.py's, for system 2)."""
    return 1 - preference_score(preference)


def swapped(preference: float) -> float:
    """The same judgment with output_1 and output_2 exchanged."""
    return preference_for(first_score(preference))


def results(studies, study) -> dict:
    from evaluation.agreement import cohen_kappa, fleiss_kappa, percent_agreement
    from evaluation.stats import pairwise_stats

    items = {it["item"]: it for it in studies.items(study.id)}
    raters = studies.raters(study.id)
    names = {r["id"]: r["name"] for r in raters}
    votes = studies.votes(study.id)
    by_item: dict[int, list[dict]] = defaultdict(list)
    by_rater: dict[str, dict[int, str]] = defaultdict(dict)
    for v in votes:
        by_item[v["item"]].append(v)
        by_rater[v["rater_id"]][v["item"]] = label(v["preference"])
    rated = sorted(by_item)

    def stats(item_ids, score_of):
        if not item_ids:
            return None
        scores = [score_of(i) for i in item_ids]
        return pairwise_stats(scores, len_a=[len(items[i]["output_1"]) for i in item_ids],
                              len_b=[len(items[i]["output_2"]) for i in item_ids]).to_dict()

    out: dict = {
        "study": {"id": study.id, "name": study.name, "system_1": study.system_1, "system_2": study.system_2,
                  "created": study.created, "closed": study.closed, "items": len(items)},
        "votes": len(votes), "items_rated": len(rated),
        "overall": stats(rated, lambda i: sum(first_score(v["preference"]) for v in by_item[i]) / len(by_item[i])),
        "raters": [],
        "rater_list": [rater_entry(r, by_rater) for r in raters],
    }
    for rid, labels in by_rater.items():
        own = {v["item"]: v for v in votes if v["rater_id"] == rid}
        out["raters"].append({"rater": names.get(rid, rid), "votes": len(labels),
                              "stats": stats(sorted(own), lambda i: first_score(own[i]["preference"]))})
    pairs = []
    for r1, r2 in combinations(sorted(by_rater, key=lambda r: names.get(r, r)), 2):
        common = sorted(set(by_rater[r1]) & set(by_rater[r2]))
        if len(common) >= 2:
            l1, l2 = [by_rater[r1][i] for i in common], [by_rater[r2][i] for i in common]
            pairs.append({"raters": [names.get(r1, r1), names.get(r2, r2)], "items": len(common),
                          "agreement": percent_agreement(l1, l2), "cohen_kappa": cohen_kappa(l1, l2)})
    out["rater_pairs"] = pairs
    everyone = [i for i in rated if len(by_rater) >= 2 and all(i in by_rater[r] for r in by_rater)]
    out["fleiss"] = ({"items": len(everyone), "raters": len(by_rater),
                      "kappa": fleiss_kappa([[sum(by_rater[r][i] == c for r in by_rater) for c in LABELS.values()]
                                             for i in everyone])}
                     if len(everyone) >= 2 else None)
    out["judge"] = judge_agreement(study, items, by_item, cohen_kappa, percent_agreement)
    return finite(out)


def rater_entry(rater: dict, by_rater: dict) -> dict:
    """One rater: name, how they joined, votes cast, and how often their browser joined (flagged above once)."""
    return {"rater": rater["name"], "joined_through": "personal link" if rater["issued"] else "shared link",
            "votes": len(by_rater.get(rater["id"], {})), "joins": rater["joins"], "flagged": rater["joins"] > 1}


def finite(value):
    """NaN (an undefined kappa) as None, so results stay valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def judge_agreement(study, items, by_item, cohen_kappa, percent_agreement) -> dict | None:
    """Agreement of each human vote, and of the item's majority, with an attached LLM judge's preference.
    Judgments match items on the request text (instruction and input), as answer files are paired."""
    from evaluation.outputs import request_key

    if not study.judge:
        return None
    by_instruction = {}
    for row in json.loads(study.judge):
        pref = row.get("preference")
        if pref is None:
            continue
        flipped = (row.get("generator_1") == study.system_2 and row.get("generator_2") == study.system_1)
        by_instruction[request_key(row)] = label(swapped(pref) if flipped else pref)
    human, judge, majority_h, majority_j = [], [], [], []
    for i, vs in by_item.items():
        j = by_instruction.get(request_key(items[i]))
        if j is None:
            continue
        labels = [label(v["preference"]) for v in vs]
        human += labels
        judge += [j] * len(labels)
        top = max(set(labels), key=labels.count)
        if labels.count(top) * 2 > len(labels):
            majority_h.append(top)
            majority_j.append(j)
    if not human:
        return {"matched_items": 0}
    no_ties = [(h, j) for h, j in zip(human, judge) if h != "tie" and j != "tie"]
    return {
        "matched_items": sum(1 for i in by_item if request_key(items[i]) in by_instruction),
        "votes": len(human), "agreement": percent_agreement(human, judge), "cohen_kappa": cohen_kappa(human, judge),
        "agreement_without_ties": (percent_agreement([h for h, _ in no_ties], [j for _, j in no_ties])
                                   if no_ties else None),
        "majority_items": len(majority_h),
        "majority_agreement": percent_agreement(majority_h, majority_j) if majority_h else None,
    }


def annotations(studies, study) -> list[dict]:
    """Every vote as an AlpacaEval annotation row (output_1 is system 1's answer)."""
    items = {it["item"]: it for it in studies.items(study.id)}
    names = {r["id"]: r["name"] for r in studies.raters(study.id)}
    return [{"instruction": items[v["item"]]["instruction"], "input": items[v["item"]]["input"],
             "output_1": items[v["item"]]["output_1"], "output_2": items[v["item"]]["output_2"],
             "generator_1": study.system_1, "generator_2": study.system_2, "preference": v["preference"],
             "annotator": names.get(v["rater_id"], v["rater_id"]), "comment": v["comment"], "time": v["updated"]}
            for v in studies.votes(study.id)]
