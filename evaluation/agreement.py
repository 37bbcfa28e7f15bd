"""Agreement between raters (people or judges) on the same items.

Cohen's kappa for two raters, Fleiss' kappa for a fixed number of raters per item, and plain
percent agreement. Kappa is (observed - chance) / (1 - chance); when chance agreement is already 1
(every rating is the same single label) kappa is undefined and returned as NaN.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence


def _pair(labels_1: Sequence[Hashable], labels_2: Sequence[Hashable]) -> tuple[list, list]:
    a, b = list(labels_1), list(labels_2)
    if len(a) != len(b):
        raise ValueError(f"the raters labelled different numbers of items ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("no items to compare")
    return a, b


def percent_agreement(labels_1: Sequence[Hashable], labels_2: Sequence[Hashable]) -> float:
    """Share of items on which the two raters gave the same label."""
    a, b = _pair(labels_1, labels_2)
    return sum(x == y for x, y in zip(a, b)) / len(a)


def cohen_kappa(labels_1: Sequence[Hashable], labels_2: Sequence[Hashable]) -> float:
    """Cohen's kappa: chance agreement from each rater's own label frequencies."""
    a, b = _pair(labels_1, labels_2)
    n = len(a)
    observed = percent_agreement(a, b)
    freq_a, freq_b = Counter(a), Counter(b)
    chance = sum(freq_a[k] * freq_b[k] for k in freq_a) / (n * n)
    if chance >= 1:
        return float("nan")
    return (observed - chance) / (1 - chance)


def fleiss_kappa(counts: Sequence[Sequence[int]] | Sequence[Mapping[Hashable, int]]) -> float:
    """Fleiss' kappa from counts[item][category] = raters who chose that category for that item.

    Rows may be lists (one column per category) or dicts {category: count}; every item must have
    the same number of raters, at least two.
    """
    rows = [dict(r) if isinstance(r, Mapping) else dict(enumerate(r)) for r in counts]
    if not rows:
        raise ValueError("no items to compare")
    raters = {sum(r.values()) for r in rows}
    if len(raters) != 1:
        raise ValueError(f"every item needs the same number of raters, got {sorted(raters)}")
    n = raters.pop()
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least two raters per item")
    if any(c < 0 for r in rows for c in r.values()):
        raise ValueError("counts must not be negative")
    items = len(rows)
    per_item = [sum(c * (c - 1) for c in r.values()) / (n * (n - 1)) for r in rows]
    observed = sum(per_item) / items
    totals: Counter = Counter()
    for r in rows:
        totals.update(r)
    chance = sum((t / (items * n)) ** 2 for t in totals.values())
    if chance >= 1:
        return float("nan")
    return (observed - chance) / (1 - chance)
