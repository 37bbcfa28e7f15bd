"""Length-controlled win rate: the win rate a judge would give if both answers had the same length.

Model (AlpacaEval 2's length term, without its gamed baselines; its per-instruction difficulty
term when a difficulty is given, as `+ weight * difficulty_i`):

    P(A preferred) = sigmoid(skill + slope * tanh(delta / sd))

where delta = len_a - len_b (characters) and sd is the standard deviation of delta over the items.
delta is scaled, not centred, so that 0 still means "the same length". `skill` plays the part of
AlpacaEval's per-model term (a column of ones for the evaluated model): without it the prediction at
zero length difference would be 0.5 by construction. The fit maximises the likelihood of the soft
labels (a score of 0.7 counts as 0.7 of a win and 0.3 of a loss) with a weak ridge penalty that
keeps the fit finite when one side wins every item. The length-controlled win rate is the
prediction at delta = 0, sigmoid(skill); with difficulty, the mean over the instructions of
sigmoid(skill + weight * difficulty_i).

Every function takes one set of items (1-D arrays) or many at once (2-D, one set per row, as the
bootstrap's resamples are): the fit is a damped Newton method run on all rows together, so 2,000
resamples cost a few passes over one matrix instead of 2,000 optimiser calls.
"""

from __future__ import annotations

import numpy as np

RIDGE = 1e-3
"""Penalty on the squared coefficients, a tiny fraction of the likelihood of even 50 items."""

NEWTON_TOL = 1e-9
"""A row has converged when its full Newton step moves neither coefficient by more than this."""

MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 40


def length_feature(len_a, len_b) -> np.ndarray:
    """tanh of the length difference over its standard deviation along the last axis (all zeros
    where every difference is equal)."""
    delta = np.asarray(len_a, dtype=float) - np.asarray(len_b, dtype=float)
    sd = delta.std(axis=-1, keepdims=True)
    return np.tanh(delta / np.where(sd > 0, sd, 1.0)) * (sd > 0)


def design(feature, difficulty=None) -> np.ndarray:
    """The model's columns besides the skill's column of ones, stacked on a new first axis: the length
    feature (slope) and, when given, each instruction's difficulty (with its own coefficient, as in
    AlpacaEval's formula)."""
    feature = np.asarray(feature, dtype=float)
    if difficulty is None:
        return feature[None]
    return np.stack([feature, np.broadcast_to(np.asarray(difficulty, dtype=float), feature.shape)])


def _objective(beta: np.ndarray, y: np.ndarray, x: np.ndarray):
    """Penalised negative log-likelihood per row, its gradient (rows x k) and Hessian (rows x k x k),
    for coefficients `beta` (rows x k) on the columns `x` (k - 1 x rows x items) after the ones.
    Written column by column: on 2,000 resamples of 805 items it is several times faster than one
    einsum over a rows x items x k array."""
    z = beta[:, :1] + sum(beta[:, j + 1, None] * column for j, column in enumerate(x))
    e = np.exp(-np.abs(z))
    loss = (np.maximum(z, 0) + np.log1p(e) - y * z).sum(axis=1) + RIDGE * (beta * beta).sum(axis=1)
    p = np.where(z >= 0, 1.0, e) / (1 + e)
    r, w = p - y, p * (1 - p)
    grad = np.column_stack([r.sum(axis=1), *(np.einsum("ij,ij->i", r, column) for column in x)]) + 2 * RIDGE * beta
    weighted = [w, *(w * column for column in x)]  # w times each column, the ones first
    hess = np.empty((len(beta), len(weighted), len(weighted)))
    for i, wi in enumerate(weighted):
        hess[:, i, 0] = hess[:, 0, i] = wi.sum(axis=1)
        for j, column in enumerate(x[:i], start=1):
            hess[:, i, j] = hess[:, j, i] = np.einsum("ij,ij->i", wi, column)
    return loss, grad, hess + 2 * RIDGE * np.eye(len(weighted))


def _newton_step(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """H^-1 g for each row (the ridge keeps every H positive definite)."""
    return np.linalg.solve(hess, grad[..., None])[..., 0]


def _damped_step(beta: np.ndarray, step: np.ndarray, loss: np.ndarray, y: np.ndarray, x: np.ndarray):
    """beta - t * step with t = 1, halved per row until that row's loss does not rise; returns the new
    coefficients with their loss, gradient and Hessian. The tolerance of 1e-12 of the loss lets a step
    near the optimum through, where the change is below rounding."""
    trial = beta - step
    new_loss, new_grad, new_hess = _objective(trial, y, x)
    t = np.ones(len(beta))
    for _ in range(MAX_HALVINGS):
        worse = np.flatnonzero(new_loss > loss + 1e-12 * np.abs(loss))
        if not worse.size:
            break
        t[worse] /= 2
        trial[worse] = beta[worse] - t[worse, None] * step[worse]
        new_loss[worse], new_grad[worse], new_hess[worse] = _objective(trial[worse], y[worse], x[:, worse])
    return trial, new_loss, new_grad, new_hess


def fit_length_models(scores, feature, start=None, difficulty=None) -> np.ndarray:
    """(skill, slope) per row, or (skill, slope, difficulty coefficient) with `difficulty`, minimising
    the penalised soft-label loss by damped Newton steps.

    A step that would raise a row's loss is halved until it does not, so rows where one side wins
    every item walk to the optimum the ridge bounds instead of overshooting. `start` is where every
    row begins (zeros; the point estimate, for bootstrap resamples: they converge in a few steps).
    Rows leave the iteration as they converge.
    """
    y = np.atleast_2d(np.asarray(scores, dtype=float))
    x = design(np.atleast_2d(np.asarray(feature, dtype=float)), difficulty)
    beta = np.tile(np.zeros(len(x) + 1) if start is None else np.asarray(start, dtype=float), (y.shape[0], 1))
    rows = np.arange(y.shape[0])
    loss, grad, hess = _objective(beta, y, x)
    for _ in range(MAX_NEWTON_STEPS):
        step = _newton_step(grad, hess)
        done = np.abs(step).max(axis=1) < NEWTON_TOL
        beta[rows[done]] -= step[done]
        if done.all():
            break
        if done.any():
            keep = ~done
            rows, step, loss, grad, hess = rows[keep], step[keep], loss[keep], grad[keep], hess[keep]
            y, x = y[keep], x[:, keep]
        beta[rows], loss, grad, hess = _damped_step(beta[rows], step, loss, y, x)
    return beta


def fit_length_model(scores, feature, difficulty=None) -> tuple[float, ...]:
    """(skill, slope), or (skill, slope, difficulty coefficient), for one set of items."""
    return tuple(float(b) for b in fit_length_models(scores, feature, difficulty=difficulty)[0])


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def controlled_rates(beta: np.ndarray, difficulty=None) -> np.ndarray:
    """The predicted win rate at zero length difference per row of coefficients: sigmoid(skill), or
    with difficulty the mean over the instructions of sigmoid(skill + coefficient * difficulty_i)."""
    beta = np.atleast_2d(beta)
    if difficulty is None:
        return sigmoid(beta[:, 0])
    d = np.atleast_2d(np.asarray(difficulty, dtype=float))
    return sigmoid(beta[:, :1] + beta[:, 2:3] * d).mean(axis=1)


def length_controlled_win_rate(scores, len_a, len_b, difficulty=None) -> float:
    """Predicted win rate of A at zero length difference."""
    beta = fit_length_models(scores, length_feature(len_a, len_b), difficulty=difficulty)
    return float(controlled_rates(beta, difficulty)[0])


BLOCK_VALUES = 100_000
"""Resamples are fitted in blocks of about this many values, so the fit's temporaries stay in cache
(about twice as fast on 2,000 resamples of 805 items as one block)."""


def resampled_win_rates(scores, len_a, len_b, idx: np.ndarray, start, difficulty=None) -> np.ndarray:
    """The length-controlled win rate of each resample (a row of item indices in `idx`).

    The whole estimator is rerun on each: the standard deviation of the length difference on the
    resample, then the fit, started from `start` (the point estimate's coefficients).
    """
    scores, len_a, len_b = (np.asarray(v, dtype=float) for v in (scores, len_a, len_b))
    d = None if difficulty is None else np.asarray(difficulty, dtype=float)
    block = max(1, BLOCK_VALUES // idx.shape[1])
    rates = []
    for rows in (idx[k:k + block] for k in range(0, idx.shape[0], block)):
        beta = fit_length_models(scores[rows], length_feature(len_a[rows], len_b[rows]), start,
                                 None if d is None else d[rows])
        rates.append(controlled_rates(beta, None if d is None else d[rows]))
    return np.concatenate(rates)
