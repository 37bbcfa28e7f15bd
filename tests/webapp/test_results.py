"""Study results from votes in SQLite: win rate, per rater, agreement, judge agreement, AlpacaEval export."""

from __future__ import annotations

import json

import pytest

from webapp import results
from webapp.studies import Studies, is_swapped


@pytest.fixture
def study(tmp_path):
    studies = Studies(tmp_path / "s.sqlite")
    items = [{"instruction": f"task {k}", "input": "", "output_1": f"one {k}", "output_2": f"two two {k}"}
             for k in range(1, 5)]
    return studies, studies.create("s", "sys-a", "sys-b", items)


def vote_for(studies, study, rater, item, system):
    """Cast a vote for `system` (1, 2 or 'tie') by screen position, as the rater's page would."""
    if system == "tie":
        return studies.vote(study, rater, item, "tie")
    first_is_1 = not is_swapped(study, rater, item)
    studies.vote(study, rater, item, "1" if (system == 1) == first_is_1 else "2")


def test_results_agreement_and_judge(study):
    studies, s = study
    ann, bob = studies.add_rater(s.id, "Ann"), studies.add_rater(s.id, "Bob")
    for item, (a, b) in enumerate([(1, 1), (1, 2), (2, 2), ("tie", "tie")], start=1):
        vote_for(studies, s, ann, item, a)
        vote_for(studies, s, bob, item, b)
    vote_for(studies, s, ann, 2, 1)  # a changed vote replaces the first one
    judge = [{"instruction": "task 1", "generator_1": "sys-b", "generator_2": "sys-a", "preference": 2.0},  # flipped
             {"instruction": "task 2", "generator_1": "sys-a", "generator_2": "sys-b", "preference": 1.0},
             {"instruction": "task 3", "generator_1": "sys-a", "generator_2": "sys-b", "preference": 1.0}]
    studies.attach_judge(s.id, json.dumps(judge))
    r = results.results(studies, studies.get(s.id))
    assert r["votes"] == 8
    assert r["overall"]["win_rate"] == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)
    assert r["overall"]["lc_ci_low"] <= r["overall"]["lc_win_rate"] <= r["overall"]["lc_ci_high"]
    assert {x["rater"]: x["stats"]["win_rate"] for x in r["raters"]} == {"Ann": 0.625, "Bob": 0.375}
    assert r["rater_pairs"][0]["agreement"] == pytest.approx(0.75)
    assert r["fleiss"]["items"] == 4 and r["fleiss"]["raters"] == 2
    # judge: system 1 on items 1 and 2, system 1 on item 3; humans agree on 1 (2 votes), 2 (1 vote), none on 3
    assert r["judge"]["matched_items"] == 3 and r["judge"]["votes"] == 6
    assert r["judge"]["agreement"] == pytest.approx(3 / 6)
    rows = results.annotations(studies, studies.get(s.id))
    assert len(rows) == 8 and {r["generator_1"] for r in rows} == {"sys-a"}
    assert sorted(r["preference"] for r in rows if r["annotator"] == "Ann") == [1.0, 1.0, 1.5, 2.0]
    json.dumps(r, allow_nan=False)


def test_order_is_stable_per_rater_and_item_and_varies(study):
    studies, s = study
    raters = [studies.add_rater(s.id, f"r{k}") for k in range(8)]
    flips = [[is_swapped(s, r, item) for item in range(1, 5)] for r in raters]
    assert flips == [[is_swapped(studies.get(s.id), r, item) for item in range(1, 5)] for r in raters]
    assert 0 < sum(map(sum, flips)) < 32
