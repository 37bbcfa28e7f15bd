"""The vectorised Newton fit against scipy's optimiser on the same penalised objective."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from evaluation.annotations import annotation_scores, read_annotations, scored_rows
from evaluation.length_control import (RIDGE, controlled_rates, fit_length_model, fit_length_models,
                                       length_controlled_win_rate, length_feature, resampled_win_rates)
from evaluation.stats import resample_indices


def reference_fit(scores, feature, difficulty=None) -> np.ndarray:
    """The penalised soft-label loss minimised by L-BFGS, with tolerances tight enough to compare at 1e-6."""
    y = np.asarray(scores, dtype=float)
    x = np.column_stack([np.ones_like(y), feature, *([] if difficulty is None else [difficulty])])

    def loss(beta):
        z = x @ beta
        nll = -(y * log_expit(z) + (1 - y) * log_expit(-z)).sum()
        return nll + RIDGE * beta @ beta, x.T @ (expit(z) - y) + 2 * RIDGE * beta

    return minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B",
                    options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000}).x


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    len_a, len_b = rng.normal(600, 250, n).clip(10), rng.normal(400, 250, n).clip(10)
    p = expit(-0.4 + 1.8 * length_feature(len_a, len_b))
    scores = np.where(rng.random(n) < 0.1, 0.5, (rng.random(n) < p).astype(float))  # ties as well
    return scores, len_a, len_b


@pytest.mark.parametrize("case", [
    synthetic(300, 1),
    synthetic(40, 2),
    (np.ones(20), np.arange(20.0), np.full(20, 10.0)),       # A wins every item: only the ridge bounds the fit
    (np.zeros(15), np.full(15, 3.0), np.full(15, 3.0)),      # no length difference at all
    (np.array([0.7, 0.2, 1.0, 0.55]), np.array([10.0, 40, 5, 8]), np.array([12.0, 9, 30, 8])),
])
def test_newton_fit_equals_the_reference_optimiser(case):
    scores, len_a, len_b = case
    feature = length_feature(len_a, len_b)
    skill, slope = fit_length_model(scores, feature)
    ref = reference_fit(scores, feature)
    assert skill == pytest.approx(ref[0], abs=1e-6) and slope == pytest.approx(ref[1], abs=1e-6)


def test_resampled_fits_equal_one_fit_per_resample():
    scores, len_a, len_b = synthetic(120, 3)
    idx = np.vstack([np.arange(120), *resample_indices(120, n_boot=7, seed=9)])  # the identity resample first
    start = fit_length_model(scores, length_feature(len_a, len_b))
    rates = resampled_win_rates(scores, len_a, len_b, idx, start)
    assert rates[0] == pytest.approx(length_controlled_win_rate(scores, len_a, len_b), abs=1e-12)
    for rows, rate in zip(idx, rates):
        ref = reference_fit(scores[rows], length_feature(len_a[rows], len_b[rows]))  # sd of the resample's own deltas
        assert rate == pytest.approx(expit(ref[0]), abs=1e-7)


def test_rows_are_fitted_independently_of_their_neighbours_and_start():
    scores, len_a, len_b = synthetic(60, 4)
    separable = np.ones(60)
    y = np.vstack([scores, separable, scores])
    f = np.vstack([length_feature(len_a, len_b)] * 3)
    together = fit_length_models(y, f, start=(2.0, -1.0))
    assert together[0] == pytest.approx(together[2], abs=1e-12)
    assert together[0] == pytest.approx(fit_length_models(scores, f[0])[0], abs=1e-8)
    assert together[1] == pytest.approx(reference_fit(separable, f[1]), abs=1e-6)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["alpaca-7b.alpaca_eval_gpt4.annotations.json",
                                  "alpaca-7b.weighted_alpaca_eval_gpt4_turbo.annotations.json"])
def test_newton_fit_equals_the_reference_on_alpaca_eval(shared_data, name):
    rows = read_annotations(shared_data / "alpaca_eval" / name)
    kept = scored_rows(rows)
    scores = np.asarray(annotation_scores(rows))
    feature = length_feature([len(r["output_2"]) for r in kept], [len(r["output_1"]) for r in kept])
    assert fit_length_model(scores, feature)[0] == pytest.approx(reference_fit(scores, feature)[0], abs=1e-6)


def with_difficulty(n, seed, skill=0.8, slope=1.5, weight=1.0):
    """Items whose difficulty moves the judge as much as the skill does (AlpacaEval's difficulty is a
    per-instruction logit offset, mostly negative: most instructions favour the strong baseline)."""
    rng = np.random.default_rng(seed)
    len_a, len_b = rng.normal(600, 250, n).clip(10), rng.normal(400, 250, n).clip(10)
    difficulty = rng.normal(-1.5, 1.5, n)
    p = expit(skill + slope * length_feature(len_a, len_b) + weight * difficulty)
    return (rng.random(n) < p).astype(float), len_a, len_b, difficulty


def test_the_fit_with_difficulty_equals_the_reference_optimiser():
    scores, len_a, len_b, difficulty = with_difficulty(300, 4)
    feature = length_feature(len_a, len_b)
    fitted = fit_length_model(scores, feature, difficulty)
    assert fitted == pytest.approx(tuple(reference_fit(scores, feature, difficulty)), abs=1e-6)


def test_difficulty_makes_the_rate_an_average_over_the_instructions():
    scores, len_a, len_b, difficulty = with_difficulty(4000, 5)
    skill, slope, weight = fit_length_model(scores, length_feature(len_a, len_b), difficulty)
    assert (skill, slope, weight) == pytest.approx((0.8, 1.5, 1.0), abs=0.25)  # about 3 standard errors
    truth = expit(0.8 + difficulty).mean()  # at equal length, averaged over the instructions
    with_d = length_controlled_win_rate(scores, len_a, len_b, difficulty)
    assert with_d == pytest.approx(truth, abs=0.02)
    assert with_d == pytest.approx(controlled_rates(np.array([skill, slope, weight]), difficulty)[0])


def test_resampled_fits_with_difficulty_equal_one_fit_per_resample():
    scores, len_a, len_b, difficulty = with_difficulty(150, 6)
    idx = np.vstack([np.arange(150), *resample_indices(150, n_boot=5, seed=2)])
    start = fit_length_model(scores, length_feature(len_a, len_b), difficulty)
    rates = resampled_win_rates(scores, len_a, len_b, idx, start, difficulty)
    for rows, rate in zip(idx, rates):
        ref = reference_fit(scores[rows], length_feature(len_a[rows], len_b[rows]), difficulty[rows])
        assert rate == pytest.approx(controlled_rates(ref, difficulty[rows])[0], abs=1e-6)
