"""Length-controlled win rate: the win rate a judge would give if both answers had the same length.

Model (AlpacaEval 2's length term, without its per-instruction difficulty or gamed baselines):

    P(A preferred) = sigmoid(skill + slope * tanh(delta / sd))

where delta = len_a - len_b (characters) and sd is the standard deviation of delta over the items.
delta is scaled, not centred, so that 0 still means "the same length". `skill` plays the part of
AlpacaEval's per-model term (a column of ones for the evaluated model): without it the prediction at
zero length difference would be 0.5 by construction. The fit maximises the likelihood of the soft
labels (a score of 0.7 counts as 0.7 of a win and 0.3 of a loss) with a weak ridge penalty that
keeps the fit finite when one side wins every item. The length-controlled win rate is the
prediction at delta = 0, sigmoid(skill).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

RIDGE = 1e-3
"""Penalty on the squared coefficients, a tiny fraction of the likelihood of even 50 items."""


def length_feature(len_a, len_b) -> np.ndarray:
    """tanh of the length difference over its standard deviation (all zeros when every difference is equal)."""
    delta = np.asarray(len_a, dtype=float) - np.asarray(len_b, dtype=float)
    sd = delta.std()
    return np.tanh(delta / sd) if sd > 0 else np.zeros_like(delta)


def fit_length_model(scores, feature) -> tuple[float, float]:
    """(skill, slope) maximising the soft-label log-likelihood plus the ridge penalty."""
    y = np.asarray(scores, dtype=float)
    x = np.column_stack([np.ones_like(y), np.asarray(feature, dtype=float)])

    def loss(beta):
        z = x @ beta
        nll = -(y * log_expit(z) + (1 - y) * log_expit(-z)).sum()
        grad = x.T @ (expit(z) - y)
        return nll + RIDGE * beta @ beta, grad + 2 * RIDGE * beta

    result = minimize(loss, np.zeros(2), jac=True, method="L-BFGS-B")
    skill, slope = result.x
    return float(skill), float(slope)


def length_controlled_win_rate(scores, len_a, len_b) -> float:
    """Predicted win rate of A at zero length difference."""
    skill, _ = fit_length_model(scores, length_feature(len_a, len_b))
    return float(expit(skill))
