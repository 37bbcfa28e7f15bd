"""An incremental index that finds every earlier text within a ROUGE-L bound of a new one.

Why it is exact (no pair that rouge-score would flag is ever missed)
--------------------------------------------------------------------
Let x (m tokens) be the new text and y (n tokens) an indexed one, L = LCS(x, y).

1. rouge-score's F-measure is 2*p*r/(p+r) with p = L/n, r = L/m, which equals 2L/(m+n)
   in exact arithmetic (0 when m or n is 0). The float it returns differs from that by a
   few ulps, so F >= s implies 2L/(m+n) >= s*(1 - 1e-9) and hence L >= need(m, n) :=
   max(1, ceil(s*(m+n)/2 * (1 - 1e-9))) for any s > 0 (L >= 1 holds whenever F > 0).
2. Write each token list as a set of elements (token, k) for the k-th occurrence of the
   token. Every LCS pairs tokens one to one, so L <= |X & Y| (multiset overlap), and
   L <= min(m, n) (length filter): pairs with need(m, n) > min(m, n) cannot qualify.
3. Sort the elements of every text by one fixed total order (rarest first). If
   |X & Y| >= a, let e be the first shared element: all >= a shared elements come at or
   after e in both lists, so e sits at position <= m - a in X and <= n - a in Y
   (0-based). This is the prefix filter of AllPairs/PPJoin (Bayardo et al. 2007; Xiao et
   al. 2008) with the position bound, applied per length n.
4. need(m, n) grows with n, so a(n) := need over the smallest feasible partner length is
   the least overlap any pair involving a text of length n can require. Indexing each
   text under its first n - a(n) + 1 elements therefore covers position n - need(m, n)
   for every partner m.

So probing the postings of x's elements at positions i <= m - need(m, n) and reading the
entries at positions j <= n - need(m, n) of texts of length n yields a superset of the
texts with F >= s; each is then scored with the exact LCS and rouge-score's arithmetic.
The order only affects speed: document frequency (rarest first) keeps postings short.
Since the stream is not known in advance, ranks are frozen between rebuilds; elements
first seen after a rebuild get fresh ranks below all others (treated as rarest), and the
whole index is rebuilt with fresh frequencies whenever the pool doubles.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from selfinstruct.rouge import fmeasure_from_lcs, lcs_with_masks, match_masks, tokenize

_SLACK = 1e-9  # relative margin that absorbs float rounding in rouge-score's F
_FIRST_REBUILD = 512


@dataclass(frozen=True)
class RougeVerdict:
    """Outcome of checking one text: is it a near-duplicate, and what is it closest to."""

    duplicate: bool
    nearest_id: int | None
    nearest_text: str | None
    score: float


def to_elements(tokens: list[str]) -> list[str]:
    """Turn a token list into distinct elements: "tok", "tok\\x001", "tok\\x002", ...

    Tokens never contain NUL, so the k-th repeat of a token gets its own element and
    multiset overlap becomes plain set overlap.
    """
    seen: dict[str, int] = {}
    out = []
    for token in tokens:
        k = seen.get(token, 0)
        seen[token] = k + 1
        out.append(token if k == 0 else f"{token}\x00{k}")
    return out


class RougeIndex:
    """Pool of texts answering "does a new text score ROUGE-L > threshold against any?".

    Decisions equal an exhaustive scan with rouge-score (`F > threshold`, strictly). For a
    duplicate, the nearest entry is the one with the highest score (earliest on ties).
    For a text that is not a duplicate, the nearest entry and its score are reported
    exactly when that score is >= `report_floor` (and > 0); otherwise nearest is None and
    score 0.0. A lower floor makes the index look at more candidates.
    """

    def __init__(self, threshold: float = 0.7, tokenizer: str = "rouge", *,
                 report_floor: float = 0.5) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if not 0.0 <= report_floor <= threshold:
            raise ValueError(f"report_floor must be in [0, threshold={threshold}], got {report_floor}")
        tokenize("", tokenizer)  # validates the name
        self.threshold = threshold
        self.tokenizer = tokenizer
        self.report_floor = report_floor
        self._level = min(threshold, report_floor)  # candidates are complete down to here
        self._texts: list[str] = []
        self._tokens: list[list[str]] = []
        self._df: Counter[str] = Counter()  # element -> number of pool texts holding it
        self._rank: dict[str, int] = {}
        self._next_new_rank = -1
        self._postings: dict[str, dict[int, list[list[int]]]] = {}
        self._plans: dict[int, tuple[int, list[tuple[int, int, int]]]] = {}
        self._max_len = 0
        self._next_rebuild = _FIRST_REBUILD
        self.candidates_verified = 0  # running total, for benchmarks

    def __len__(self) -> int:
        return len(self._texts)

    def text(self, id: int) -> str:
        """The text stored under `id`."""
        return self._texts[id]

    def add(self, text: str) -> int:
        """Add `text` to the pool unconditionally (e.g. a seed) and return its id."""
        return self._insert(text, tokenize(text, self.tokenizer))

    def check(self, text: str) -> RougeVerdict:
        """Score `text` against the pool without adding it."""
        return self._probe(tokenize(text, self.tokenizer))

    def check_and_add(self, text: str) -> RougeVerdict:
        """Score `text` against the pool and add it only when it is not a duplicate."""
        tokens = tokenize(text, self.tokenizer)
        verdict = self._probe(tokens)
        if not verdict.duplicate:
            self._insert(text, tokens)
        return verdict

    # -- internals -------------------------------------------------------------------

    def _need(self, m: int, n: int) -> int:
        return max(1, math.ceil(self._level * (m + n) / 2 * (1 - _SLACK)))

    def _plan(self, m: int) -> list[tuple[int, int, int]]:
        """(n, need(m, n), n - need) for every feasible partner length n, ascending."""
        cached = self._plans.get(m)
        if cached is not None and cached[0] >= self._max_len:
            return cached[1]
        cap = max(self._max_len, m)
        plan = []
        for n in range(1, cap + 1):
            a = self._need(m, n)
            if a <= min(m, n):
                plan.append((n, a, n - a))
            elif n >= m:
                break  # need only grows with n from here
        self._plans[m] = (cap, plan)
        return plan

    def _sorted_elements(self, tokens: list[str]) -> list[str]:
        rank = self._rank
        elements = to_elements(tokens)
        for e in elements:
            if e not in rank:
                rank[e] = self._next_new_rank
                self._next_new_rank -= 1
        elements.sort(key=rank.__getitem__)
        return elements

    def _candidates(self, elements: list[str]) -> set[int]:
        m = len(elements)
        plan = self._plan(m)
        cands: set[int] = set()
        postings = self._postings
        for i, e in enumerate(elements):
            by_len = postings.get(e)
            if by_len is None:
                continue
            if not plan or i > m - plan[0][1]:
                break
            for n, a, jmax in plan:
                if i > m - a:
                    break
                by_pos = by_len.get(n)
                if by_pos is not None:
                    for ids in by_pos[: jmax + 1]:
                        cands.update(ids)
        return cands

    def _probe(self, tokens: list[str]) -> RougeVerdict:
        m = len(tokens)
        if m == 0 or not self._postings:
            return RougeVerdict(False, None, None, 0.0)
        cands = self._candidates(self._sorted_elements(tokens))
        self.candidates_verified += len(cands)
        masks = match_masks(tokens)
        best_id, best = None, -1.0
        all_tokens = self._tokens
        for rid in cands:
            other = all_tokens[rid]
            score = fmeasure_from_lcs(lcs_with_masks(masks, m, other), m, len(other))
            if score > best or (score == best and rid < best_id):
                best_id, best = rid, score
        if best_id is None or best <= 0.0:
            return RougeVerdict(False, None, None, 0.0)
        if best > self.threshold:
            return RougeVerdict(True, best_id, self._texts[best_id], best)
        if best >= self.report_floor:
            return RougeVerdict(False, best_id, self._texts[best_id], best)
        return RougeVerdict(False, None, None, 0.0)

    def _insert(self, text: str, tokens: list[str]) -> int:
        rid = len(self._texts)
        self._texts.append(text)
        self._tokens.append(tokens)
        if tokens:
            elements = self._sorted_elements(tokens)
            self._df.update(elements)
            self._max_len = max(self._max_len, len(tokens))
            self._index(rid, elements)
        if len(self._texts) >= self._next_rebuild:
            self._rebuild()
        return rid

    def _index(self, rid: int, elements: list[str]) -> None:
        n = len(elements)
        plan = self._plan(n)
        if not plan:
            return
        postings = self._postings
        for j in range(n - plan[0][1] + 1):
            by_pos = postings.setdefault(elements[j], {}).setdefault(n, [])
            while len(by_pos) <= j:
                by_pos.append([])
            by_pos[j].append(rid)

    def _rebuild(self) -> None:
        """Re-rank elements by current document frequency and re-index every text."""
        order = sorted(self._df, key=self._df.__getitem__)
        self._rank = {e: r for r, e in enumerate(order)}
        self._next_new_rank = -1
        self._postings = {}
        for rid, tokens in enumerate(self._tokens):
            if tokens:
                self._index(rid, self._sorted_elements(tokens))
        self._next_rebuild = 2 * len(self._texts)
