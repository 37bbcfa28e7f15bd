"""Agreement measures against hand-worked and published values."""

from __future__ import annotations

import math

import pytest

from evaluation.agreement import cohen_kappa, fleiss_kappa, percent_agreement


def test_cohen_kappa_by_hand():
    a = ["A", "A", "B", "B", "tie", "A"]
    b = ["A", "B", "B", "B", "tie", "A"]
    p_o = 5 / 6
    p_e = (3 * 2 + 2 * 3 + 1 * 1) / 36
    assert percent_agreement(a, b) == pytest.approx(p_o)
    assert cohen_kappa(a, b) == pytest.approx((p_o - p_e) / (1 - p_e))
    assert cohen_kappa(a, a) == 1.0


def test_cohen_kappa_undefined_and_bad_input():
    assert math.isnan(cohen_kappa(["A", "A"], ["A", "A"]))
    with pytest.raises(ValueError):
        cohen_kappa(["A"], ["A", "B"])
    with pytest.raises(ValueError):
        percent_agreement([], [])


def test_fleiss_kappa_wikipedia_example():
    # The worked example of Fleiss' kappa (10 items, 14 raters, 5 categories): kappa = 0.210.
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(counts) == pytest.approx(0.2099, abs=1e-4)
    as_dicts = [{k: c for k, c in enumerate(row) if c} for row in counts]
    assert fleiss_kappa(as_dicts) == pytest.approx(fleiss_kappa(counts))


def test_fleiss_kappa_refuses_uneven_raters():
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[1, 1], [2, 1]])
