"""Pairwise statistics: win rate with ties as half a win, bootstrap interval, sign test, per category.

    result = pairwise_stats([1, 0.5, 0, 1], len_a=[120, 80, 300, 95], len_b=[100, 90, 150, 60])

A score is A's share of one item's win: 1 when A won, 0 when B won, 0.5 for a tie, and the mean of
the two verdicts when an item was judged in both orders. An item won in one order and tied in the
other (0.75 or 0.25) keeps that score in the win rate, but is counted apart from wins and losses
(`split_wins`, `split_losses`) and left out of the sign test, as MT-Bench counts it a tie. Because an item's orders are averaged into
one score before resampling, the bootstrap over items keeps them together (a paired bootstrap). The
length-controlled win rate's interval comes from the same resamples as the win rate's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from evaluation.length_control import controlled_rates, fit_length_model, length_feature, resampled_win_rates


@dataclass(frozen=True)
class PairwiseResult:
    n: int
    """Items scored."""
    wins: float
    """Items A won (score > 0.5)."""
    losses: float
    """Items A lost (score < 0.5)."""
    ties: float
    """Items scored exactly 0.5."""
    split_wins: float
    """Items A won in one order and tied in the other (score 0.75): neither a win nor a tie."""
    split_losses: float
    """Items A lost in one order and tied in the other (score 0.25)."""
    win_rate: float
    """Mean score of A in [0, 1]: ties (and split verdicts) count half a win."""
    ci_low: float
    ci_high: float
    """Bootstrap percentile interval of the win rate, resampling items."""
    p_value: float
    """Exact two-sided sign test of wins against losses (ties dropped); 1.0 with no decided item."""
    lc_win_rate: float | None
    """Length-controlled win rate (see evaluation.length_control); None without lengths."""
    lc_ci_low: float | None
    lc_ci_high: float | None
    """Bootstrap percentile interval of the length-controlled win rate, refitted on the same resamples
    as the win rate's interval; None without lengths."""
    mean_len_a: float | None
    mean_len_b: float | None
    lc_model: str | None = None
    """What the length-controlled rate was fitted with: "length" (skill and length only: our fit, not
    AlpacaEval's leaderboard figure), "length+difficulty" (with each instruction's difficulty, as
    AlpacaEval 2's GLM), None without lengths."""
    per_category: dict[str, "PairwiseResult"] = field(default_factory=dict)
    """The same statistics within each category (empty when no categories were given)."""

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("n", "wins", "losses", "ties", "split_wins", "split_losses", "win_rate", "ci_low", "ci_high", "p_value",
                                              "lc_win_rate", "lc_ci_low", "lc_ci_high", "mean_len_a", "mean_len_b", "lc_model")}
        out["per_category"] = {k: v.to_dict() for k, v in self.per_category.items()}
        return out


def check_scores(scores) -> np.ndarray:
    """Scores as a float array; ValueError when empty, not numbers, NaN or outside [0, 1]."""
    try:
        s = np.asarray(list(scores), dtype=float)
    except (TypeError, ValueError):
        raise ValueError("scores must be numbers in [0, 1]") from None
    if s.ndim != 1 or s.size == 0:
        raise ValueError("no scores: need at least one judged item")
    bad = np.flatnonzero(~((s >= 0) & (s <= 1)))  # NaN fails both comparisons
    if bad.size:
        raise ValueError(f"score {s[bad[0]]!r} at item {int(bad[0])} is outside [0, 1]")
    return s


def resample_indices(n_items: int, *, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """`n_boot` resamples of the items with replacement, as index matrices (resamples x items) of
    at most ~2M entries (~16 MB) each; the same seed gives the same resamples."""
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n_items)
    for start in range(0, n_boot, chunk):
        yield rng.integers(0, n_items, size=(min(n_boot, start + chunk) - start, n_items))


def bootstrap_interval(statistic: Callable[[np.ndarray], np.ndarray], n_items: int, *, n_boot: int, seed: int,
                       level: float) -> tuple[float, float]:
    """Percentile interval of `statistic` (an index matrix -> one value per resample) over `n_boot` resamples."""
    values = np.concatenate([statistic(idx) for idx in resample_indices(n_items, n_boot=n_boot, seed=seed)])
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def length_control(s: np.ndarray, len_a, len_b, difficulty=None, *, n_boot: int, seed: int,
                   level: float) -> tuple[float, float, float]:
    """(length-controlled win rate, interval low, interval high); each resample is refitted from the
    point estimate's coefficients."""
    len_a, len_b = np.asarray(len_a, dtype=float), np.asarray(len_b, dtype=float)
    d = None if difficulty is None else np.asarray(difficulty, dtype=float)
    start = fit_length_model(s, length_feature(len_a, len_b), d)
    low, high = bootstrap_interval(lambda idx: resampled_win_rates(s, len_a, len_b, idx, start, d), s.size,
                                   n_boot=n_boot, seed=seed, level=level)
    return float(controlled_rates(np.array(start), d)[0]), low, high


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial test of wins among decided items against p = 0.5 (ties and split items
    are not decided)."""
    if wins + losses == 0:
        return 1.0
    from scipy.stats import binomtest  # scipy.stats takes about a second to import; only results need it

    return float(binomtest(wins, wins + losses, 0.5).pvalue)


def pairwise_stats(scores, *, len_a: Sequence[float] | None = None, len_b: Sequence[float] | None = None,
                   categories: Sequence[str] | None = None, split: Sequence[bool] | None = None,
                   difficulty: Sequence[float] | None = None, n_boot: int = 2000, seed: int = 0,
                   level: float = 0.95) -> PairwiseResult:
    """Win rate of A over B and the length-controlled rate, each with its interval; sign test; per category.

    `split` marks the items whose two orders gave a decision and a tie (`verdicts.is_split`); None:
    no item was judged that way (one verdict or one weighted preference per item). `difficulty`, one
    per item (AlpacaEval's instruction_difficulty.csv), adds its term to the length-controlled fit.
    """
    s = check_scores(scores)
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    for name, values in (("len_a", len_a), ("len_b", len_b), ("categories", categories), ("split", split),
                         ("difficulty", difficulty)):
        if values is not None and len(values) != s.size:
            raise ValueError(f"{name} has {len(values)} values for {s.size} scores")
    if (len_a is None) != (len_b is None):
        raise ValueError("give both len_a and len_b, or neither")
    if difficulty is not None and len_a is None:
        raise ValueError("difficulty is a term of the length-controlled rate: give len_a and len_b with it")
    apart = np.zeros(s.size, dtype=bool) if split is None else np.asarray(split, dtype=bool)
    wins, losses = int((s[~apart] > 0.5).sum()), int((s[~apart] < 0.5).sum())
    split_wins, split_losses = int((s[apart] > 0.5).sum()), int((s[apart] < 0.5).sum())
    low, high = bootstrap_interval(lambda idx: s[idx].mean(axis=1), s.size, n_boot=n_boot, seed=seed, level=level)
    lengths = len_a is not None
    lc, lc_low, lc_high = (length_control(s, len_a, len_b, difficulty, n_boot=n_boot, seed=seed, level=level)
                           if lengths else (None, None, None))
    per_category = {}
    if categories is not None:
        labels = np.asarray([str(c) for c in categories])
        for label in sorted(set(labels.tolist())):
            mask = labels == label
            per_category[label] = pairwise_stats(
                s[mask], len_a=np.asarray(len_a, float)[mask] if lengths else None,
                len_b=np.asarray(len_b, float)[mask] if lengths else None, split=apart[mask],
                difficulty=None if difficulty is None else np.asarray(difficulty, float)[mask], n_boot=n_boot,
                seed=seed, level=level)
    return PairwiseResult(
        n=int(s.size), wins=float(wins), losses=float(losses),
        ties=float(s.size - wins - losses - split_wins - split_losses),
        split_wins=float(split_wins), split_losses=float(split_losses),
        win_rate=float(s.mean()), ci_low=low, ci_high=high, p_value=sign_test(wins, losses),
        lc_win_rate=lc, lc_ci_low=lc_low, lc_ci_high=lc_high,
        mean_len_a=float(np.mean(len_a)) if lengths else None, mean_len_b=float(np.mean(len_b)) if lengths else None,
        lc_model=None if not lengths else "length" if difficulty is None else "length+difficulty",
        per_category=per_category)
