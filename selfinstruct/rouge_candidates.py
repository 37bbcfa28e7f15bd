"""Candidate filter behind `RougeIndex`: every text that could reach ROUGE-L F >= s, and few others.

Why no pair is missed
---------------------
Let x (m tokens) be the new text and y (n tokens) an indexed one, L = LCS(x, y).

1. rouge-score's F-measure is 2*p*r/(p+r) with p = L/n, r = L/m, which equals 2L/(m+n)
   in exact arithmetic (0 when m or n is 0). The float it returns differs from that by a
   few ulps, so F >= s implies 2L/(m+n) >= s*(1 - 1e-9) and hence L >= need(m, n) :=
   max(1, ceil(s*(m+n)/2 * (1 - 1e-9))) for any s >= 0 (L >= 1 whenever F > 0).
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
   require. Indexing each text under its first n - alpha(n) + l elements covers its
   l-prefix for every partner; a probe of length m against texts of length n reads only
   its first m - need(m, n) + l elements.
5. Every shared element sets its bit in both texts' 256-bit element signatures, so
   |X & Y| <= popcount(sig_x & sig_y) + (number of x's own bit collisions).

So `candidates` returns a superset of the texts with F >= s, each with an upper bound
on its F; the caller scores them exactly. The order only affects speed: document
frequency (rarest first) keeps postings short. The stream is not known in advance, so
ranks are frozen between rebuilds; elements first seen after a rebuild get fresh ranks
below all others (treated as rarest), and the caller rebuilds with fresh frequencies
whenever the pool doubles.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter

import numpy as np

SLACK = 1e-9  # relative margin that absorbs float rounding in rouge-score's F
_ELL = 2  # l of the l-prefix filter
_SIG_WORDS = 4  # 4 x 64 = 256-bit element signatures
_INFEASIBLE = 1 << 30
_MASK64 = (1 << 64) - 1


def to_elements(tokens: list[str]) -> list[str]:
    """Distinct elements "tok", "tok\\x001", "tok\\x002", ... for repeated tokens (no NUL in tokens)."""
    seen: dict[str, int] = {}
    out = []
    for token in tokens:
        k = seen.get(token, 0)
        seen[token] = k + 1
        out.append(token if k == 0 else f"{token}\x00{k}")
    return out


class CandidateFilter:
    """Inverted index over rarest-first element prefixes, for ROUGE-L F >= `level`."""

    def __init__(self, level: float) -> None:
        self.level = level
        self._df: Counter[str] = Counter()  # element -> number of indexed texts holding it
        self._rank: dict[str, int] = {}
        self._next_new_rank = -1
        self._eid: dict[str, int] = {}  # element -> permanent id (its signature bit)
        self._postings: dict[str, array] = {}  # element -> ids of texts with it in their prefix
        self._lens = np.zeros(1024, dtype=np.int64)
        self._sigs = np.zeros((1024, _SIG_WORDS), dtype=np.uint64)
        self._alpha: dict[int, int] = {}
        self._tables: dict[int, tuple[int, np.ndarray, np.ndarray, int]] = {}  # per probe length
        self._max_len = 0

    def need(self, m: int, n: int) -> int:
        """Least LCS a pair of lengths m, n needs for F >= level (step 1)."""
        return max(1, math.ceil(self.level * (m + n) / 2 * (1 - SLACK)))

    def prepare(self, tokens: list[str]) -> tuple[list[str], int]:
        """Elements sorted rarest first, and the signature (one bit per element id mod 256)."""
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
            sig |= 1 << (i % (64 * _SIG_WORDS))
        elements.sort(key=rank.__getitem__)
        return elements, sig

    def add(self, rid: int, elements: list[str], sig: int, count: bool = True) -> None:
        """Index text `rid` (ids must arrive in increasing order) under its prefix (step 4)."""
        n = len(elements)
        if rid >= len(self._lens):
            self._lens = np.resize(self._lens, 2 * rid)
            self._sigs = np.resize(self._sigs, (2 * rid, _SIG_WORDS))
        self._lens[rid] = n
        self._sigs[rid] = [(sig >> (64 * k)) & _MASK64 for k in range(_SIG_WORDS)]
        if count:
            self._df.update(elements)
        if n > self._max_len:
            self._max_len = n
            self._tables.clear()
        postings = self._postings
        for e in elements[: min(n, n - self._alpha_min(n) + _ELL)]:
            ids = postings.get(e)
            if ids is None:
                postings[e] = array("i", [rid])
            else:
                ids.append(rid)

    def rebuild(self, token_lists: list[list[str]]) -> None:
        """Re-rank elements by current document frequency and re-index every text."""
        order = sorted(self._df, key=self._df.__getitem__)
        self._rank = {e: r for r, e in enumerate(order)}
        self._next_new_rank = -1
        self._postings = {}
        for rid, tokens in enumerate(token_lists):
            if tokens:
                self.add(rid, *self.prepare(tokens), count=False)

    def candidates(self, elements: list[str], sig: int) -> list[tuple[float, int]]:
        """(upper bound on F, id) of every indexed text that may reach F >= level, best first."""
        m = len(elements)
        probe_len, x_prefix, need_row, min_need = self._table(m)
        ids_parts, sizes = [], []
        postings = self._postings
        for e in elements[:probe_len]:
            ids = postings.get(e)
            if ids is None:
                sizes.append(0)
            else:
                ids_parts.append(np.frombuffer(ids, dtype=np.int32))
                sizes.append(len(ids))
        if not ids_parts:
            return []
        ids = np.concatenate(ids_parts)
        # Probe position i may only meet texts of lengths n whose l-prefix reaches past i.
        position = np.repeat(np.arange(len(sizes)), sizes)
        ids = ids[position < x_prefix[self._lens[ids]]]
        if not len(ids):
            return []
        ids.sort()
        repeat = ids[1:] == ids[:-1]
        if min_need >= _ELL:
            # Every pair needs two shared prefix elements: keep ids seen at least twice.
            repeat[1:] &= ~repeat[:-1]  # first repeat of each run only
            ids = ids[1:][repeat]
        else:
            starts = np.flatnonzero(np.concatenate(([True], ~repeat)))
            counts = np.diff(np.append(starts, len(ids)))
            ids = ids[starts]
        lens = self._lens[ids]
        need = need_row[lens]
        words = np.array([(sig >> (64 * k)) & _MASK64 for k in range(_SIG_WORDS)], dtype=np.uint64)
        bound = np.bitwise_count(self._sigs[ids] & words).sum(axis=1, dtype=np.int64)
        bound += m - sig.bit_count()  # bits shared by two of x's elements may hide matches
        keep = bound >= need
        if min_need < _ELL:
            keep &= counts >= np.minimum(need, _ELL)
        ids, lens = ids[keep], lens[keep]
        upper = 2 * np.minimum(np.minimum(bound[keep], m), lens) / (m + lens) * (1 + SLACK)
        order = np.argsort(-upper, kind="stable")
        return list(zip(upper[order].tolist(), ids[order].tolist()))

    def _alpha_min(self, n: int) -> int:
        """Least overlap any qualifying pair with a length-n text needs (step 4)."""
        alpha = self._alpha.get(n)
        if alpha is None:
            # need() grows with the partner's length, so the shortest feasible partner
            # (at most n itself, since need(n, n) <= n) gives the least overlap.
            alpha = next(a for k in range(1, n + 1) if (a := self.need(n, k)) <= k)
            self._alpha[n] = alpha
        return alpha

    def _table(self, m: int) -> tuple[int, np.ndarray, np.ndarray, int]:
        """Longest probe prefix; per partner length n the probe's l-prefix (0 when n is
        infeasible) and need(m, n); the least need."""
        table = self._tables.get(m)
        if table is None:
            x_prefix = np.zeros(self._max_len + 1, dtype=np.int64)
            need_row = np.full(self._max_len + 1, _INFEASIBLE, dtype=np.int64)
            for n in range(1, self._max_len + 1):
                a = self.need(m, n)
                if a <= min(m, n):
                    need_row[n] = a
                    x_prefix[n] = min(m, m - a + min(a, _ELL))
            table = (int(x_prefix.max()), x_prefix, need_row, int(need_row.min()))
            self._tables[m] = table
        return table
