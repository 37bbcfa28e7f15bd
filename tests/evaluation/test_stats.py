"""Win rate, bootstrap interval, sign test and length control against known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

from evaluation.length_control import length_feature
from evaluation.stats import pairwise_stats


def test_counts_ties_as_half_a_win():
    r = pairwise_stats([1, 1, 0.5, 0, 0.75, 0.25], n_boot=200)
    assert (r.n, r.wins, r.losses, r.ties) == (6, 3.0, 2.0, 1.0)
    assert r.win_rate == pytest.approx(3.5 / 6)
    assert r.ci_low <= r.win_rate <= r.ci_high
    assert r.lc_win_rate is None and r.mean_len_a is None and r.per_category == {}


def test_an_item_won_in_one_order_and_tied_in_the_other_is_counted_apart():
    # MT-Bench calls such a pair a tie; its 0.75 stays in the win rate, but it is no win in W/L/T or the sign test
    scores = [1] * 7 + [0] * 2 + [0.75] * 3 + [0.25]
    split = [False] * 9 + [True] * 4
    r = pairwise_stats(scores, split=split, categories=["x"] * 6 + ["y"] * 7, n_boot=10)
    assert (r.wins, r.losses, r.ties, r.split_wins, r.split_losses) == (7, 2, 0, 3, 1)
    assert r.win_rate == pytest.approx((7 + 0.75 * 3 + 0.25) / 13)
    assert r.p_value == pytest.approx(pairwise_stats([1] * 7 + [0] * 2, n_boot=10).p_value)
    y = r.per_category["y"]
    assert (y.wins, y.losses, y.ties, y.split_wins, y.split_losses) == (1, 2, 0, 3, 1)
    unmarked = pairwise_stats(scores, n_boot=10)  # one weighted preference per item: AlpacaEval's rule, > 0.5 wins
    assert (unmarked.wins, unmarked.losses, unmarked.split_wins) == (10, 3, 0)


def test_sign_test_equals_a_hand_binomial():
    scores = [1] * 7 + [0] * 2 + [0.5] * 3
    by_hand = 2 * sum(math.comb(9, k) for k in range(3)) / 2 ** 9  # P(X <= 2), X ~ Bin(9, 1/2), two-sided
    assert pairwise_stats(scores, n_boot=10).p_value == pytest.approx(by_hand)
    assert pairwise_stats([0.5, 0.5], n_boot=10).p_value == 1.0


@pytest.mark.parametrize("bad", [[], [1.2], [-0.1], [float("nan")], ["x"]])
def test_refuses_empty_or_out_of_range_scores(bad):
    with pytest.raises(ValueError):
        pairwise_stats(bad)


def test_refuses_misaligned_lengths_and_categories():
    with pytest.raises(ValueError, match="len_a"):
        pairwise_stats([1, 0], len_a=[1], len_b=[1, 2])
    with pytest.raises(ValueError, match="categories"):
        pairwise_stats([1, 0], categories=["x"])


def test_interval_covers_the_truth_about_95_percent_of_the_time():
    # Items: A wins with 0.35, tie with 0.2, loses otherwise: true win rate 0.35 + 0.1 = 0.45.
    truth, runs, n = 0.45, 400, 120
    covered = 0
    for seed in range(runs):
        rng = np.random.default_rng(1000 + seed)
        scores = rng.choice([1.0, 0.5, 0.0], size=n, p=[0.35, 0.2, 0.45])
        r = pairwise_stats(scores, n_boot=400, seed=seed)
        covered += r.ci_low <= truth <= r.ci_high
    # Binomial(400, 0.95) has sd 0.011; the percentile bootstrap runs a little narrow at n = 120.
    assert 0.915 <= covered / runs <= 0.985, covered / runs


def test_per_category_splits_the_items():
    r = pairwise_stats([1, 1, 0, 0.5], categories=["x", "x", "y", "y"], n_boot=50)
    assert set(r.per_category) == {"x", "y"}
    assert r.per_category["x"].win_rate == 1.0 and r.per_category["y"].win_rate == 0.25
    assert r.to_dict()["per_category"]["y"]["n"] == 2


def test_length_control_corrects_a_judge_that_prefers_longer_answers():
    # Two equally good models; A writes longer answers and the judge rewards length.
    rng = np.random.default_rng(7)
    n = 2000
    len_a, len_b = rng.normal(700, 200, n).clip(20), rng.normal(400, 200, n).clip(20)
    p_a = expit(0.0 + 2.0 * length_feature(len_a, len_b))
    scores = (rng.random(n) < p_a).astype(float)
    r = pairwise_stats(scores, len_a=len_a, len_b=len_b, n_boot=100)
    assert r.win_rate > 0.7  # the raw rate rewards length
    assert abs(r.lc_win_rate - 0.5) < 0.05  # the controlled rate recovers equal quality
    assert r.mean_len_a > r.mean_len_b


def test_length_control_keeps_a_real_quality_gap():
    rng = np.random.default_rng(3)
    n = 2000
    len_a, len_b = rng.normal(500, 150, n), rng.normal(500, 150, n)
    scores = (rng.random(n) < expit(1.0 + 1.5 * length_feature(len_a, len_b))).astype(float)
    r = pairwise_stats(scores, len_a=len_a, len_b=len_b, n_boot=100)
    assert abs(r.lc_win_rate - expit(1.0)) < 0.04


def test_length_control_stays_finite_when_one_side_wins_everything():
    r = pairwise_stats([1.0] * 20, len_a=list(range(20)), len_b=[10] * 20, n_boot=20)
    assert 0.9 < r.lc_win_rate <= 1.0


def test_length_control_interval_uses_the_win_rate_resamples():
    # With lengths given, the raw interval is the one computed without them: the same resamples.
    scores = [1, 0.5, 0, 1, 1, 0, 0.75, 1]
    with_lengths = pairwise_stats(scores, len_a=[9, 3, 5, 8, 7, 2, 6, 9], len_b=[5] * 8, n_boot=300, seed=4)
    without = pairwise_stats(scores, n_boot=300, seed=4)
    assert (with_lengths.ci_low, with_lengths.ci_high) == (without.ci_low, without.ci_high)
    assert without.lc_ci_low is None and without.lc_ci_high is None
    assert with_lengths.to_dict()["lc_ci_high"] == with_lengths.lc_ci_high


def _length_biased_items(n, seed):
    rng = np.random.default_rng(seed)
    len_a, len_b = rng.normal(600, 200, n).clip(20), rng.normal(450, 200, n).clip(20)
    scores = (rng.random(n) < expit(0.5 + 1.5 * length_feature(len_a, len_b))).astype(float)
    return scores, len_a, len_b


def test_length_control_interval_holds_the_estimate_and_narrows_with_more_items():
    widths = []
    for n in (100, 400, 1600):
        scores, len_a, len_b = _length_biased_items(n, seed=11)
        r = pairwise_stats(scores, len_a=len_a, len_b=len_b, n_boot=500, seed=0)
        assert r.lc_ci_low < r.lc_win_rate < r.lc_ci_high
        widths.append(r.lc_ci_high - r.lc_ci_low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] > 3 * widths[2]  # about 1/sqrt(n): a factor of 4 from 100 to 1600 items


def test_length_control_interval_stays_finite_when_one_side_wins_everything():
    r = pairwise_stats([1.0] * 20, len_a=list(range(20)), len_b=[10] * 20, n_boot=200)
    assert 0.9 < r.lc_ci_low <= r.lc_win_rate <= r.lc_ci_high < 1.0
    r = pairwise_stats([0.0] * 30, len_a=[5] * 30, len_b=[5] * 30, n_boot=200)  # and with no length difference
    assert 0.0 < r.lc_ci_low <= r.lc_ci_high < 0.01


def test_per_category_results_carry_their_own_length_control_interval():
    scores, len_a, len_b = _length_biased_items(200, seed=5)
    r = pairwise_stats(scores, len_a=len_a, len_b=len_b, categories=["x", "y"] * 100, n_boot=200)
    for c in r.per_category.values():
        assert c.lc_ci_low <= c.lc_win_rate <= c.lc_ci_high
