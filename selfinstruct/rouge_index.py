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
   |X & Y| >= a and l <= a, the l-th shared element in that order has at least a - l + 1
   shared elements at or after it, so it sits at position < m - a + l in X and
   < n - a + l in Y: the first l shared elements all lie in both "l-prefixes", and the
   two prefixes share >= l elements (l-prefix filter, Wang et al. 2012; l = 1 is the
   prefix filter of AllPairs/PPJoin, Bayardo et al. 2007, Xiao et al. 2008). We use
   l = min(2, need): requiring two prefix matches discards most pairs that merely share
   one common word.
4. need(m, n) grows with n, so alpha(n), the need of the shortest partner length that is
   feasible for a text of length n, is the least overlap any pair involving that text can
   require. Indexing each text under its first n - alpha(n) + l elements covers the
   l-prefix for every partner; a probe of length m against texts of length n reads only
   its first m - need(m, n) + l elements (postings are grouped in length bands and use
   the band's shortest length, which gives the longest prefix).
5. Survivors are bounded once more before the LCS: every shared element sets its bit in
   both texts' 256-bit element signatures, so |X & Y| <= popcount(sig_x & sig_y) plus
   the number of x's own bit collisions.

So the texts scored are a superset of those with F >= s; each is scored with the exact
LCS and rouge-score's arithmetic, best upper bound first, stopping once the bound
2*min(overlap, m, n)/(m+n) (with float slack) falls below the best score found.
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
_ELL = 2  # l of the l-prefix scheme: candidates share >= min(l, need) prefix elements
_SIG_BITS = 256  # width of the per-text element signature
_INFEASIBLE = 1 << 30


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


def length_bucket(n: int) -> int:
    """Postings group texts by length: exact up to 8 tokens, then in ~20% wide bands."""
    return n if n <= 8 else 9 + int(math.log(n / 8) / math.log(1.2))


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
        self._lens: list[int] = []
        self._sigs: list[int] = []
        self._eid: dict[str, int] = {}  # element -> permanent id (signature bit)
        self._postings: dict[str, dict[int, set[int]]] = {}  # element -> length bucket -> ids
        self._plans: dict[int, list[tuple[int, int]]] = {}
        self._plans_cap: dict[int, int] = {}
        self._alpha: dict[int, int] = {}
        self._rows: dict[int, list[int]] = {}
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
        return self._probe(tokenize(text, self.tokenizer))[0]

    def check_and_add(self, text: str) -> RougeVerdict:
        """Score `text` against the pool and add it only when it is not a duplicate."""
        tokens = tokenize(text, self.tokenizer)
        verdict, elements, sig = self._probe(tokens)
        if not verdict.duplicate:
            self._insert(text, tokens, elements, sig)
        return verdict

    # -- internals -------------------------------------------------------------------

    def _need(self, m: int, n: int) -> int:
        return max(1, math.ceil(self._level * (m + n) / 2 * (1 - _SLACK)))

    def _alpha_min(self, n: int) -> int:
        """Least overlap any qualifying pair with a length-n text needs (step 4)."""
        alpha = self._alpha.get(n)
        if alpha is None:
            # need() grows with the partner's length, so the shortest feasible partner
            # (at most n itself, since need(n, n) <= n) gives the least overlap.
            alpha = next(a for k in range(1, n + 1) if (a := self._need(n, k)) <= k)
            self._alpha[n] = alpha
        return alpha

    def _prefix_len(self, n: int) -> int:
        return min(n, n - self._alpha_min(n) + _ELL)

    def _plan(self, m: int) -> list[tuple[int, int]]:
        """(length bucket, probe prefix length) for the feasible partner lengths, ascending."""
        plan = self._plans.get(m)
        if plan is None or self._plans_cap[m] < self._max_len:
            row = self._need_row(m)
            plan = []
            for n, a in enumerate(row):
                if a <= m:
                    bucket = length_bucket(n)
                    if not plan or plan[-1][0] != bucket:
                        # Prefixes shrink as n grows, so a bucket's first length has the longest.
                        plan.append((bucket, min(m, m - a + min(a, _ELL))))
            self._plans[m] = plan
            self._plans_cap[m] = self._max_len
        return plan

    def _need_row(self, m: int) -> list[int]:
        """need(m, n) for n = 0..max length in the pool; _INFEASIBLE where min(m, n) < need."""
        row = self._rows.get(m)
        if row is None or len(row) <= self._max_len:
            row = [_INFEASIBLE] * (self._max_len + 1)
            for n in range(1, self._max_len + 1):
                a = self._need(m, n)
                if a <= min(m, n):
                    row[n] = a
            self._rows[m] = row
        return row

    def _sorted_elements(self, tokens: list[str]) -> tuple[list[str], int]:
        """Elements sorted by rank, and their signature (one bit per element id mod _SIG_BITS)."""
        rank, eid = self._rank, self._eid
        elements = to_elements(tokens)
        sig = 0
        for e in elements:
            i = eid.get(e)
            if i is None:
                i = eid[e] = len(eid)
            if e not in rank:
                rank[e] = self._next_new_rank
                self._next_new_rank -= 1
            sig |= 1 << (i % _SIG_BITS)
        elements.sort(key=rank.__getitem__)
        return elements, sig

    def _candidates(self, elements: list[str], sig: int) -> list[tuple[int, int]]:
        """(overlap bound, id) for ids passing the l-prefix count (l = 2), length and signature filters."""
        m = len(elements)
        postings = self._postings
        plan = self._plan(m)
        seen: set[int] = set()  # ids sharing >= 1 prefix element
        twice: set[int] = set()  # ids sharing >= 2 prefix elements
        for i, e in enumerate(elements[: plan[0][1]] if plan else ()):
            by_len = postings.get(e)
            if by_len is None:
                continue
            for bucket, prefix in plan:
                if i >= prefix:
                    break  # longer partners need more overlap, hence shorter prefixes
                ids = by_len.get(bucket)
                if ids is not None:
                    if seen:
                        twice |= seen & ids
                    seen |= ids
        row = self._need_row(m)
        # Pairs needing only one common element (tiny texts) are counted once, not twice.
        pool = seen if self._alpha_min(m) < _ELL else twice
        if not pool:
            return []
        lens, sigs = self._lens, self._sigs
        # Bits shared by two of our own elements: each such collision may hide one match.
        spare = m - sig.bit_count()
        return [
            (bound, rid) for rid in pool
            if (bound := (sigs[rid] & sig).bit_count() + spare) >= (a := row[lens[rid]])
            and (a < _ELL or rid in twice)
        ]

    def _probe(self, tokens: list[str]) -> tuple[RougeVerdict, list[str], int]:
        m = len(tokens)
        if m == 0:
            return RougeVerdict(False, None, None, 0.0), [], 0
        elements, sig = self._sorted_elements(tokens)
        masks = match_masks(tokens)
        best_id, best = None, -1.0
        all_tokens, lens = self._tokens, self._lens
        # Best first: F <= 2*min(overlap, n)/(m+n), so once that bound (plus float slack)
        # drops below the best score found, no later candidate can beat or tie it.
        ranked = sorted(
            ((2 * min(bound, m, lens[rid]) / (m + lens[rid]) * (1 + _SLACK), rid)
             for bound, rid in self._candidates(elements, sig)),
            reverse=True,
        )
        for upper, rid in ranked:
            if upper < best:
                break
            self.candidates_verified += 1
            other = all_tokens[rid]
            score = fmeasure_from_lcs(lcs_with_masks(masks, m, other), m, len(other))
            if score > best or (score == best and rid < best_id):
                best_id, best = rid, score
        if best_id is None or best <= 0.0:
            verdict = RougeVerdict(False, None, None, 0.0)
        elif best > self.threshold:
            verdict = RougeVerdict(True, best_id, self._texts[best_id], best)
        elif best >= self.report_floor:
            verdict = RougeVerdict(False, best_id, self._texts[best_id], best)
        else:
            verdict = RougeVerdict(False, None, None, 0.0)
        return verdict, elements, sig

    def _insert(self, text: str, tokens: list[str], elements: list[str] | None = None,
                sig: int = 0) -> int:
        rid = len(self._texts)
        self._texts.append(text)
        self._tokens.append(tokens)
        self._lens.append(len(tokens))
        if tokens and elements is None:
            elements, sig = self._sorted_elements(tokens)
        self._sigs.append(sig)
        if tokens:
            self._df.update(elements)
            self._max_len = max(self._max_len, len(tokens))
            self._index(rid, elements)
        if len(self._texts) >= self._next_rebuild:
            self._rebuild()
        return rid

    def _index(self, rid: int, elements: list[str]) -> None:
        postings = self._postings
        n = len(elements)
        bucket = length_bucket(n)
        for e in elements[: self._prefix_len(n)]:
            by_len = postings.get(e)
            if by_len is None:
                postings[e] = {bucket: {rid}}
            elif bucket in by_len:
                by_len[bucket].add(rid)
            else:
                by_len[bucket] = {rid}

    def _rebuild(self) -> None:
        """Re-rank elements by current document frequency and re-index every text."""
        order = sorted(self._df, key=self._df.__getitem__)
        self._rank = {e: r for r, e in enumerate(order)}
        self._next_new_rank = -1
        self._postings = {}
        for rid, tokens in enumerate(self._tokens):
            if tokens:
                self._index(rid, self._sorted_elements(tokens)[0])
        self._next_rebuild = 2 * len(self._texts)
