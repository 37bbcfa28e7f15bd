"""An evaluation set's identity and AlpacaEval's preference rule, each written once."""

import pytest

from evaluation.annotations import preference_for, preference_score
from evaluation.judge_results import annotation_rows
from evaluation.outputs import set_key, set_sha256
from evaluation.sets import EvalSet
from evaluation.verdicts import A_FIRST, B_FIRST

ITEMS = [{"instruction": "Name a river.", "input": ""}, {"instruction": "Add.", "input": "2 and 3"}]


def test_a_sets_identity_is_pinned_in_both_stored_forms():
    # Stored in registry lineage, answer journals and "used by" entries: these values may never change.
    in_order = "b21e78b7e7d7e0e0312338df3ae2f5ec8750627993d66d11a25176673ebc3ebe"
    assert set_sha256(ITEMS) == EvalSet("s", "s.json", "alpaca", ITEMS).sha256 == in_order
    any_order = "1efb3d1143282b2be352b31a54ae038a7fbf479667146ec3aac8e3e39e45871d"
    assert set_sha256(ITEMS, any_order=True) == set_sha256(ITEMS[::-1], any_order=True) == set_key(ITEMS) == any_order
    assert set_sha256(ITEMS[::-1]) != in_order


@pytest.mark.parametrize(("preference", "score"), [(1, 0.0), (1.5, 0.5), (2, 1.0), (1.25, 0.25), (None, None)])
def test_preference_and_score_are_one_rule_both_ways(preference, score):
    assert preference_score(preference) == score and preference_for(score) == preference


def test_the_judges_annotations_follow_the_rule():
    pairs = [{"instruction": "i", "input": "", "output_a": "a", "output_b": "b", "category": "c"}] * 3
    items = [{"score": s, A_FIRST: "A", B_FIRST: "B", "raw": {}} for s in (1.0, 0.25, None)]
    rows = annotation_rows(pairs, items, model_a="a", model_b="b", judge="j")
    # the score is model A's (output_1's); the rule gives output_2's
    assert [preference_score(r["preference"]) for r in rows] == [0.0, 0.75, None]
