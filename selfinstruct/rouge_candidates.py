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
   < n - a + l in Y: the first l shared elements all lie in both "l-prefixes" (l-prefix
   filter, Wang et al. 2012; l = 1 is the prefix filter of AllPairs/PPJoin, Bayardo et
   al. 2007, Xiao et al. 2008).
4. When need >= 2, let e1 before e2 be the first two shared elements. The order puts the
   "rare" elements (those in fewer than RARE_DF texts at the last re-rank, and every element
   first seen since) before all others. If e1 is rare, it lies in both 1-prefixes: a text is
   looked up under each rare element of its 1-prefix alone. Otherwise e2, after e1, is not
   rare either, and the pair {e1, e2} lies in both 2-prefixes: a text is looked up under
   every pair of non-rare elements of its 2-prefix. A key carries q, the position of its
   element (+ 1 for a single) or of the pair's later element; a pair of texts counts only
   when q_x < m - need + 2 and q_y < n - need + 2, i.e. inside the 1- or 2-prefixes for those
   lengths. Each text is keyed for its longest prefixes, n - alpha(n) + 1 or + 2, where
   alpha(n) >= 2 is the least need of any feasible partner that needs two. A pair of common
   words is much rarer than either word, and a rare word is rare alone, so the lists read
   stay short; and keying rare words alone keeps the number of keys per text low.
5. When need(m, n) == 1 (very short texts or a low level), one shared element is enough:
   texts that can meet such a partner are also indexed under each element, and a probe
   looks those up for the lengths where need is 1.

6. Every shared element sets its bit in both texts' 256-bit element signatures (bit = element
   id mod 256), so |X & Y| <= popcount(sig_x & sig_y) + (m - popcount(sig_x)): two of x's
   elements on one bit hide at most one match each. Pairs whose bound is below need are
   dropped before the LCS; on Alpaca-like data this removes about 97% of the pairs that pass
   the prefix filter.

7. The block form (`candidates_block`) tests step 4's prefix condition on the entry itself. Let
   S(r) be the largest m + n with need(m, n) <= r (need grows with m + n). A key at depth q of a
   text of length n lies in its prefix for a partner of length m exactly when
   need(m, n) <= n - q + 1, i.e. m + n <= S(n - q + 1); as q >= 1 this implies need <= n (the
   length filter). An entry carries n and S(n - q + 1) - n, the probe its own bound on n.

So `candidates_one` and `candidates_block` return a superset of the texts with F >= s; the caller
scores them exactly. The order only affects speed: document frequency (rarest first) keeps the pair
lists short. When the texts are not known in advance, ranks are frozen between rebuilds;
elements first seen after a rebuild get fresh ranks below all others (treated as rarest),
and the caller rebuilds with fresh frequencies whenever the pool doubles.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from selfinstruct.rouge_batch import SIG_WORDS, ragged_arange, ragged_positions
from selfinstruct.rouge_postings import LEN_CAP, KeyTable, SortedPostings

SLACK = 1e-9  # relative margin that absorbs float rounding in rouge-score's F
_POS_BITS = 16  # an index entry is (text id << 16) | the pair's last position in that text
_POS_MAX = (1 << _POS_BITS) - 1  # positions beyond are stored as this: a looser, still safe bound
RARE_DF = 64  # an element in fewer texts than this (at the last re-rank) is looked up alone
SPLIT = 32  # a key's entries beyond this many are kept by text length (one list per length)
_LEN_CAP = LEN_CAP  # in a split list, texts of this length or longer share the last slot
_CAP = 0xFFFF  # lengths in the block form's entries are capped at this


@dataclass
class BlockKeys:
    """A block of texts as flat arrays: `elements[starts[j]:starts[j + 1]]` are text j's element ids,
    `ordered` the same rarest first, and `keys[offsets[j]:offsets[j + 1]]` with `q` its `pairs_of`."""

    starts: np.ndarray
    elements: np.ndarray
    ordered: np.ndarray
    keys: np.ndarray
    q: np.ndarray
    offsets: np.ndarray
    kid: np.ndarray | None = None  # the keys' ids in the key table (-1: not indexed), from `candidates_block`

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def owners(self) -> np.ndarray:
        """The block position of each key."""
        return np.repeat(np.arange(len(self.starts) - 1, dtype=np.int64), np.diff(self.offsets))


def pair_key(a: int, b: int) -> int:
    """One integer for the unordered pair of element ids {a, b}."""
    return (a << 32) | b if a < b else (b << 32) | a


class CandidateFilter:
    """Index of element pairs in rarest-first prefixes, for ROUGE-L F >= `level`."""

    def __init__(self, level: float) -> None:
        self.level = level
        self._eid: dict = {}  # element (a token id, or (id, k) for its k-th repeat) -> id
        self._rank: list[int] = []  # element id -> position in the global order (lower: rarer)
        self._next_new_rank = -1
        self._rare_below = 0  # ranks below this are rare elements, indexed alone (new ones rank below 0)
        # The postings of the keys, in one of two forms: for one text at a time a dictionary (pair key ->
        # entries, text id << 16 | last position), for blocks a key table and sorted arrays. A call
        # that needs the other form rebuilds it from `_elements`.
        self._pairs: dict[int, array] | None = {}
        self._table: KeyTable | None = None
        self._postings: SortedPostings | None = None
        self._singles: dict[int, array] = {}  # element id -> entries, for partners that need 1
        self._elements: list[array] = []  # element ids of each indexed text, for rebuilds
        self._lens = np.zeros(1024, dtype=np.int64)
        self._sigs = np.zeros((1024, SIG_WORDS), dtype=np.uint64)
        self._folds = np.zeros(1024, dtype=np.uint64)  # block form: each signature's words OR-ed (bit: id mod 64)
        self._rank_array: np.ndarray | None = None  # self._rank as an array, while it is current
        self._alpha: dict[int, tuple[int, bool]] = {}
        self._need_by_sum = np.zeros(0, dtype=np.int64)  # need(m, n) by m + n, grown on demand
        self._spans: dict[tuple[int, int], tuple[int, int]] = {}  # (m, q) -> slots `_parts` reads
        self._first_slot = np.zeros(0, dtype=np.int64)  # m -> least partner length n <= _LEN_CAP with need <= n

    def need(self, m: int, n: int) -> int:
        """Least LCS a pair of lengths m, n needs for F >= level (step 1)."""
        return max(1, math.ceil(self.level * (m + n) / 2 * (1 - SLACK)))

    def elements(self, ids: Sequence[int]) -> array:
        """Element ids of a text given its token ids (new elements get new ids, ranked rarest)."""
        eid = self._eid
        keys: Sequence = ids
        if len(set(ids)) < len(ids):
            seen: dict = {}
            keys = []
            for c in ids:
                k = seen.get(c, 0)
                seen[c] = k + 1
                keys.append(c if k == 0 else (c, k))
        out = array("i")
        for key in keys:
            i = eid.get(key)
            out.append(self._new_element(key) if i is None else i)
        return out

    def element_id(self, key) -> int:
        """The id of an element (a token id, or (token id, k) for its k-th repeat), numbered on first sight."""
        i = self._eid.get(key)
        return self._new_element(key) if i is None else i

    def _new_element(self, key) -> int:  # a new element ranks rarest until the next rerank
        i = self._eid[key] = len(self._rank)
        self._rank.append(self._next_new_rank)
        self._next_new_rank -= 1
        return i

    def order(self, elements: array) -> list[int]:
        """The element ids sorted rarest first."""
        return sorted(elements, key=self._rank.__getitem__)

    def rerank(self, extra: np.ndarray | None = None, blocks: bool | None = None) -> None:
        """Order elements by document frequency over the indexed texts and `extra` (the flat element
        ids of texts about to arrive), and re-index every text under its new prefix, in the form for
        blocks or for one text at a time (by default the form held now)."""
        flat = np.frombuffer(b"".join(self._elements), dtype=np.int32)
        df = np.bincount(flat, minlength=len(self._rank))
        if extra is not None:
            df += np.bincount(extra, minlength=len(self._rank))
        rank = np.empty(len(df), dtype=np.int64)
        rank[np.argsort(df, kind="stable")] = np.arange(len(df))
        self._rank = rank.tolist()
        self._rank_array = rank
        self._rare_below = int((df < RARE_DF).sum())  # ranks follow df, so these are the lowest
        self._next_new_rank = -1
        self._build(blocks=self._pairs is None if blocks is None else blocks)

    def _use(self, blocks: bool) -> None:
        """Hold the postings in the form for blocks, or for one text at a time."""
        if (self._pairs is None) != blocks:
            self._build(blocks)

    def _build(self, blocks: bool) -> None:
        """Index every text under the current ranks, in the form for blocks or for one text at a time,
        with whole-array work."""
        flat = np.frombuffer(b"".join(self._elements), dtype=np.int32)
        lens = self._lens[:len(self._elements)]
        starts = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(lens, out=starts[1:])
        ordered = self.order_many(starts, flat)
        keys, last, offsets = self.pairs_many(starts, ordered)
        rid = np.repeat(np.arange(len(lens), dtype=np.int64), np.diff(offsets))
        self._pairs = self._table = self._postings = None
        if blocks:
            self._folds = np.bitwise_or.reduce(self._sigs, axis=-1)
            distinct, kid = np.unique(keys, return_inverse=True)
            self._table, self._postings = KeyTable(), SortedPostings()
            self._table.add(distinct)
            n = lens[rid]
            self._postings.add(kid.reshape(-1), np.minimum(n, _LEN_CAP), self._block_entries(rid, n, last))
        else:
            self._pairs = self._pairs_dict(keys, rid, last)
        self._singles = self._singles_of(starts, ordered.tolist(), lens)

    def _pairs_dict(self, keys: np.ndarray, rid: np.ndarray, last: np.ndarray) -> dict[int, array]:
        """The dictionary form of the postings: each key's entries in one slice of the key-sorted entries."""
        order = np.argsort(keys, kind="stable")  # within a key, ids ascending as `add` appends them
        keys = keys[order]
        entries = _entries(rid[order], last[order]).tobytes()
        bounds = np.flatnonzero(np.diff(keys)) + 1
        lo = np.concatenate(([0], bounds)).tolist() if len(keys) else []
        hi = np.concatenate((bounds, [len(keys)])).tolist() if len(keys) else []
        pairs: dict[int, array] = {}
        for key, a, b in zip(keys[lo].tolist() if lo else [], lo, hi):
            got = pairs[key] = array("q")
            got.frombytes(entries[8 * a:8 * b])
            if b - a > SPLIT:
                pairs[key] = self._split(got)
        return pairs

    def _singles_of(self, starts: np.ndarray, ordered: list[int], lens: np.ndarray) -> dict[int, array]:
        """Every element of the texts that some partner meets with one shared element (need 1)."""
        singles: dict[int, array] = {}
        for text in np.flatnonzero([self._alpha_of(int(n))[1] for n in lens]).tolist():
            for j, a in enumerate(ordered[starts[text]:starts[text + 1]]):
                singles.setdefault(a, array("q")).append((text << _POS_BITS) | min(j, _POS_MAX))
        return singles

    def add(self, rid: int, elements: array, ordered: list[int], sig,
            keyed: tuple[list[int], list[int]] | None = None, looked: list | None = None) -> None:
        """Index text `rid` (ids arrive in increasing order) with its signature words `sig`;
        `keyed` is its `pairs_of`, and `looked` what its keys held when it was a probe, if known."""
        self._use(blocks=False)
        self._elements.append(elements)
        self._set_len(rid, len(ordered))
        self._sigs[rid] = sig
        if ordered:
            self._index(rid, ordered, keyed=keyed, looked=looked)

    def lengths(self) -> np.ndarray:
        """Token count per text id (provisional ids of the last block included)."""
        return self._lens

    def _set_len(self, rid: int, n: int) -> None:
        if rid >= len(self._lens):
            self._lens = np.resize(self._lens, 2 * rid + 2)
            self._sigs = np.resize(self._sigs, (2 * rid + 2, SIG_WORDS))
            self._folds = np.resize(self._folds, 2 * rid + 2)
        self._lens[rid] = n

    def _set_sigs(self, at: slice, sigs: np.ndarray) -> None:
        """Signatures of a block's texts, and their folds (which only the block form keeps)."""
        self._sigs[at] = sigs
        self._folds[at] = np.bitwise_or.reduce(sigs, axis=-1)

    def set_provisional(self, base: int, lens: np.ndarray, sigs: np.ndarray) -> None:
        """Lengths and signatures of a block of probes under the ids base, base + 1, ..."""
        self._set_len(base + len(lens), 0)
        self._lens[base:base + len(lens)] = lens
        self._set_sigs(slice(base, base + len(lens)), sigs)

    def set_provisional_one(self, rid: int, m: int, sig: np.ndarray) -> None:
        """`set_provisional` for a block of one."""
        self._set_len(rid, m)
        self._sigs[rid] = sig

    def ranks(self) -> np.ndarray:
        """The global order as an array (element id -> rank)."""
        if self._rank_array is None or len(self._rank_array) != len(self._rank):
            self._rank_array = np.array(self._rank, dtype=np.int64)
        return self._rank_array

    def order_many(self, starts: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """Each text's element ids sorted rarest first, flat (the same layout as `elements`)."""
        # Ranks are distinct and fill one range (new elements count down from -1), so a text's ranks
        # sorted as one integer column per text give its elements back through `by_rank`.
        rank = self.ranks()
        low = int(rank.min(initial=0))
        by_rank = np.empty(len(rank), dtype=np.int64)
        by_rank[rank - low] = np.arange(len(rank))
        lens = np.diff(starts)
        text = np.repeat(np.arange(len(lens), dtype=np.int64), lens) * len(rank)
        return by_rank[np.sort(text + (rank[elements] - low)) - text]

    def pairs_many(self, starts: np.ndarray, ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`pairs_of` for many texts at once: flat keys, flat q values, and offsets per text."""
        lens = np.diff(starts)
        longest = int(lens.max(initial=0))
        alpha = np.array([self._alpha_of(n)[0] for n in range(longest + 1)], dtype=np.int64)[lens]
        text = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
        rare = np.bincount(text, weights=self.ranks()[ordered] < self._rare_below, minlength=len(lens)).astype(np.int64)
        n_single = np.clip(np.minimum(rare, lens - alpha + 1), 0, None)
        frequent = np.clip(np.minimum(lens, lens - alpha + 2) - rare, 0, None)  # frequent elements in the 2-prefix
        n_pair = frequent * (frequent - 1) // 2
        first, last = _pair_template(longest)
        at = np.repeat(starts[:-1], n_pair)
        where = ragged_arange(n_pair)  # which pair of its text's frequent elements each output is
        shift = np.repeat(rare, n_pair)
        a, b = ordered[at + shift + first[where]], ordered[at + shift + last[where]]
        singles = ordered[ragged_positions(starts[:-1], n_single)]
        # Per text: its singles, then its pairs (the order of `pairs_of`).
        count = n_single + n_pair
        offsets = np.zeros(len(lens) + 1, dtype=np.int64)
        np.cumsum(count, out=offsets[1:])
        is_single = np.zeros(int(offsets[-1]), dtype=bool)
        is_single[ragged_positions(offsets[:-1], n_single)] = True
        keys = np.empty(len(is_single), dtype=np.int64)
        q = np.empty(len(is_single), dtype=np.int64)
        keys[is_single] = (singles << 32) | singles
        q[is_single] = ragged_arange(n_single) + 1
        keys[~is_single] = (np.minimum(a, b) << 32) | np.maximum(a, b)
        q[~is_single] = shift + last[where]
        return keys, q, offsets

    def pairs_of(self, ordered: list[int]) -> tuple[list[int], list[int]]:
        """The keys a text is indexed (and probes) under, each with its q (step 4): a rare element of
        the 1-prefix alone (key e << 32 | e, q its position + 1), and every pair of frequent elements
        of the 2-prefix (q the later one's position).

        need is symmetric, so the prefix a text is indexed under for its longest-reaching
        partner is also the longest prefix it reads as a probe."""
        n = len(ordered)
        alpha = self._alpha_of(n)[0]
        rank, rare_below = self._rank, self._rare_below
        rare = 0
        while rare < n and rank[ordered[rare]] < rare_below:
            rare += 1
        keys = [(e << 32) | e for e in ordered[:max(0, min(rare, n - alpha + 1))]]
        q = list(range(1, len(keys) + 1))
        for j in range(rare + 1, min(n, n - alpha + 2)):
            b = ordered[j]
            for a in ordered[rare:j]:
                keys.append((a << 32) | b if a < b else (b << 32) | a)
                q.append(j)
        return keys, q

    def _index(self, rid: int, ordered: list[int], keyed: tuple[list[int], list[int]] | None = None,
               looked: list | None = None) -> None:
        """Append text `rid` to the lists of its keys. `looked` (the lists its keys held when the text
        was looked up as a probe) saves looking them up again; a key that had none then, or whose list
        was split since (the old list is left empty), is looked up afresh."""
        pairs = self._pairs
        keys, last = self.pairs_of(ordered) if keyed is None else keyed
        base = rid << _POS_BITS
        slot = min(len(ordered), _LEN_CAP)
        for key, j, got in zip(keys, last, map(pairs.get, keys) if looked is None else looked):
            entry = base | (j if j < _POS_MAX else _POS_MAX)
            if got is None or (type(got) is array and not got):
                got = pairs.get(key)
                if got is None:
                    pairs[key] = array("q", (entry,))
                    continue
            if type(got) is array:
                got.append(entry)
                if len(got) > SPLIT:
                    pairs[key] = self._split(got)
                    del got[:]  # whoever holds it from a lookup sees it empty and looks again
            elif (part := got[slot]) is None:
                got[slot] = array("q", (entry,))
            else:
                part.append(entry)
        if self._alpha_of(len(ordered))[1]:
            singles = self._singles
            for j, a in enumerate(ordered):
                entry = base | min(j, _POS_MAX)
                got = singles.get(a)
                if got is None:
                    singles[a] = array("q", (entry,))
                else:
                    got.append(entry)

    def _split(self, entries: array) -> list[array | None]:
        """A long list of entries as one list per text length (slot min(n, _LEN_CAP)), each in id order
        (None for a length with no entry yet)."""
        values = np.frombuffer(entries, dtype=np.int64)
        slot = np.minimum(self._lens[values >> _POS_BITS], _LEN_CAP)
        values = values[np.argsort(slot, kind="stable")]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(slot, minlength=_LEN_CAP + 1)))).tolist()
        return [array("q", values[a:b].tobytes()) if b > a else None for a, b in zip(bounds[:-1], bounds[1:])]

    def _parts(self, split: list[array | None], m: int, q: int) -> list[array | None]:
        """The lists of a split key that a probe of length m reaching it at q can meet: partner lengths n
        with need(m, n) <= n (length filter) and need(m, n) <= m - q + 1 (its own prefix for that n)."""
        span = self._spans.get((m, q))
        if span is None:
            n, lo, hi = 1, _LEN_CAP + 1, -1
            while n <= _LEN_CAP and (a := self.need(m, n)) <= m - q + 1:
                if a <= n:
                    lo, hi = min(lo, n), n
                n += 1
            if n > _LEN_CAP:  # every length from here on may qualify: the shared last slot too
                lo, hi = min(lo, _LEN_CAP), _LEN_CAP
            span = self._spans[(m, q)] = (lo, hi + 1)
        return split[span[0]:span[1]]

    def _alpha_of(self, n: int) -> tuple[int, bool]:
        """(least need >= 2 of any feasible partner of a length-n text, or n + 1 when there is none;
        whether some partner needs only 1). need(n, k) grows with k and is feasible when <= min(n, k)."""
        got = self._alpha.get(n)
        if got is None:
            alpha, k, walk = n + 1, 1, True
            if self.level < 2 / (4 * n + 1000):
                # need reaches 2 only for partners longer than 2/level - n: skip the walk and take
                # 2, a lower bound (a longer prefix than needed, never a shorter one).
                alpha, walk = 2, False
            while walk and (a := self.need(n, k)) <= n:
                if 2 <= a <= k:  # the first feasible partner that needs two: the least such need
                    alpha = a
                    break
                k += 1
            got = self._alpha[n] = (alpha, self.need(n, 1) == 1)
        return got

    def block_keys(self, starts: np.ndarray, elements: np.ndarray) -> BlockKeys:
        """A block of texts (flat element ids) ordered and keyed under the current ranks."""
        ordered = self.order_many(starts, elements)
        return BlockKeys(starts, elements, ordered, *self.pairs_many(starts, ordered))

    def candidates_block(self, block: BlockKeys, base: int) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs for a block of probes: (probe position, text id), sorted, each pair once.

        Probe j is matched against the indexed texts and against the block's probes before it, which
        carry the provisional ids base + i (their lengths and signatures set by `set_provisional`).
        Sets `block.kid` for `add_block`.
        """
        self._use(blocks=True)
        m = block.lengths()
        owner = block.owners()
        block.kid = self._table.lookup(block.keys)
        lo, hi = self._slot_spans(m[owner], block.q)
        entries, at = self._postings.read(block.kid, lo, hi)
        # The key lies in both prefixes for lengths m, n exactly when m + n is at most what the depth of
        # either side allows (`_block_entries`); the probe's side bounds n, the entry's side m.
        m_key = m[owner]
        most_n = self._largest_sums(m_key - block.q + 1) - m_key
        ok = ((entries >> 16) & _CAP) <= most_n[at]
        ok &= (entries & _CAP) >= np.minimum(m_key, _CAP)[at]
        chosen = np.flatnonzero(ok)
        probe, ids = owner[at[chosen]], entries[chosen] >> 32
        # Lengths from the entries: a capped one gives a lower need, a looser bound.
        need = self._needs(m[probe], (entries[chosen] >> 16) & _CAP)
        pool = self._overlap_ok(m[probe], ids, need, base + probe)
        single_probe, single_ids, single_ypos = self._single_candidates(block, base)
        later, earlier, later_last, earlier_last = self._block_pairs(block.keys, owner, block.q)
        other_probe = np.concatenate((single_probe, later))
        other_ids = np.concatenate((single_ids, base + earlier))
        xpos = np.concatenate((np.full(len(single_ids), -1, dtype=np.int64), later_last))
        ypos = np.concatenate((single_ypos, earlier_last))
        other = self._admissible(m[other_probe], other_ids, xpos, ypos, base + other_probe)
        key = np.unique(np.concatenate((probe[pool] * (1 << 40) + ids[pool],
                                        other_probe[other] * (1 << 40) + other_ids[other])))
        return key >> 40, key & ((1 << 40) - 1)

    def _largest_sums(self, r: np.ndarray) -> np.ndarray:
        """The largest m + n with need(m, n) <= r, for each r (need grows with m + n); 2**40 where the
        table of need ends first (a looser, safe bound)."""
        top = int(r.max(initial=0))
        self._needs(np.array([min(int(2 * (top + 1) / max(self.level, 1e-6)), 1 << 22)]), np.array([1]))
        most = np.searchsorted(self._need_by_sum, r, side="right") - 1
        return np.where(most >= len(self._need_by_sum) - 1, 1 << 40, most)

    def _block_entries(self, rid: np.ndarray, n: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Entries of the block form: text id << 32 | its length n << 16 | the longest partner m for
        which the key, at depth q, lies in the text's prefix (m + n <= `_largest_sums`(n - q + 1)).
        Both are capped at _CAP, which a probe reads as "any": a looser, safe bound."""
        most_m = np.clip(self._largest_sums(n - q + 1) - n, 0, _CAP)
        return (rid << 32) | (np.minimum(n, _CAP) << 16) | most_m

    def _single_candidates(self, block: BlockKeys, base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(probe, text id, depth in the text) met through one shared element, for the probes that
        have partners needing only one (very short texts, or a low level): the pool's texts and the
        block's earlier ones."""
        found: list[int] = []
        lists: list[array] = []
        staged: dict[int, array] = {}
        lens = block.lengths().tolist()
        ordered = None
        for j in np.flatnonzero([self._alpha_of(n)[1] for n in lens]).tolist():
            if ordered is None:
                ordered = block.ordered.tolist()
            mine = ordered[block.starts[j]:block.starts[j + 1]]
            for a in mine:
                for source in (self._singles, staged):
                    got = source.get(a)
                    if got is not None:
                        lists.append(got)
                        found.append(j)
            for jj, a in enumerate(mine):
                staged.setdefault(a, array("q")).append(((base + j) << _POS_BITS) | min(jj, _POS_MAX))
        entries = np.frombuffer(b"".join(lists), dtype=np.int64)
        sizes = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        return np.repeat(np.array(found, dtype=np.int64), sizes), entries >> _POS_BITS, entries & _POS_MAX

    def _slot_spans(self, m: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_parts` over arrays: the length slots [lo, hi) a probe of length m reaching a key at q can
        meet (empty when lo >= hi)."""
        top = int(m.max(initial=0))
        if top >= len(self._first_slot):
            ms = np.arange(2 * top + 2, dtype=np.int64)
            n = np.arange(1, _LEN_CAP + 1, dtype=np.int64)
            feasible = self._needs(ms[:, None], n[None, :]) <= n[None, :]  # grows with n
            self._first_slot = np.where(feasible.any(axis=1), feasible.argmax(axis=1) + 1, _LEN_CAP + 1)
        self._needs(m, np.full(len(m), _LEN_CAP + 1))  # the table of need by m + n reaches every sum here
        # Partner lengths n with need(m, n) <= m - q + 1 are 1..N: need grows with m + n.
        reach = np.searchsorted(self._need_by_sum, m - q + 1, side="right") - 1 - m
        count = np.clip(reach, 0, _LEN_CAP)
        lo = self._first_slot[m]
        every = count >= _LEN_CAP  # longer texts, in the shared last slot, may qualify too
        return np.where(every, np.minimum(lo, _LEN_CAP), lo), np.where(every, _LEN_CAP + 1, count + 1)

    def add_block(self, block: BlockKeys, kept: np.ndarray, rid: int, sigs: np.ndarray) -> None:
        """Index the block texts at positions `kept` (after `candidates_block`) as rid, rid + 1, ..."""
        self._use(blocks=True)
        lens = block.lengths()
        raw = block.elements.tobytes()
        starts = block.starts.tolist()
        self._elements += [array("i", raw[4 * starts[j]:4 * starts[j + 1]]) for j in kept.tolist()]
        self._set_len(rid + len(kept), 0)
        self._lens[rid:rid + len(kept)] = lens[kept]
        self._set_sigs(slice(rid, rid + len(kept)), sigs)
        new_id = np.full(len(lens), -1, dtype=np.int64)
        new_id[kept] = np.arange(rid, rid + len(kept))
        owner = block.owners()
        at = np.flatnonzero(new_id[owner] >= 0)
        kid = block.kid[at]
        fresh = np.flatnonzero(kid < 0)
        distinct, inverse = np.unique(block.keys[at[fresh]], return_inverse=True)
        kid[fresh] = self._table.add(distinct)[inverse.reshape(-1)]
        texts = new_id[owner[at]]
        n = self._lens[texts]
        self._postings.add(kid, np.minimum(n, _LEN_CAP), self._block_entries(texts, n, block.q[at]))
        for j in kept[[self._alpha_of(n)[1] for n in lens[kept].tolist()]].tolist():
            base = int(new_id[j]) << _POS_BITS
            for jj, a in enumerate(block.ordered[starts[j]:starts[j + 1]].tolist()):
                self._singles.setdefault(a, array("q")).append(base | min(jj, _POS_MAX))

    def candidates_one(self, ordered: list[int], rid: int, keyed: tuple[list[int], list[int]],
                       looked: list) -> np.ndarray:
        """`candidates` for a block of one (the one-at-a-time path, without the block's set-up): the
        sorted ids of the indexed texts that may reach the level against the probe `rid`."""
        m = len(ordered)
        if not m:
            return np.zeros(0, np.int64)
        if self._pairs is None:  # `_use(blocks=False)`, without a call per text
            self._build(blocks=False)
        lists, xpos_of = [], []
        looked[:] = map(self._pairs.get, keyed[0])
        for got, jj in zip(looked, keyed[1]):
            if got is not None:
                if type(got) is array:
                    lists.append(got)
                    xpos_of.append(jj)
                else:
                    for part in self._parts(got, m, jj):
                        if part:
                            lists.append(part)
                            xpos_of.append(jj)
        if self._alpha_of(m)[1]:
            for a in ordered:
                got = self._singles.get(a)
                if got is not None:
                    lists.append(got)
                    xpos_of.append(-1)
        if not lists:
            return np.zeros(0, np.int64)
        entries = np.frombuffer(b"".join(lists), dtype=np.int64)
        ids = entries >> _POS_BITS
        xpos = np.repeat(np.array(xpos_of, dtype=np.int64), np.fromiter(map(len, lists), dtype=np.int64,
                                                                         count=len(lists)))
        ok = self._admissible(m, ids, xpos, entries & _POS_MAX, rid)
        return np.unique(ids[ok])

    def _admissible(self, m, ids: np.ndarray, xpos: np.ndarray, ypos: np.ndarray, probe_rows) -> np.ndarray:
        """Positions of the (probe of length m, text id) pairs that pass the length, prefix and overlap
        filters; a pair was found through a key at depths xpos, ypos (xpos -1: a single element, for
        need 1), and the probe's signature is row `probe_rows` (one id, or one per pair)."""
        n = self._lens[ids]
        need = self._needs(m, n)
        ok = need <= np.minimum(m, n)
        # A key counts only inside both prefixes for these lengths; a single element only where need is 1.
        ok &= np.where(xpos < 0, need == 1, (need >= 2) & (xpos < m - need + 2) & (ypos < n - need + 2))
        at = np.flatnonzero(ok)  # the overlap bound on the few that are left
        if isinstance(probe_rows, np.ndarray):
            probe_rows, m = probe_rows[at], m[at]
        return at[self._signature_ok(m, ids[at], need[at], probe_rows)]

    def _overlap_ok(self, m: np.ndarray, ids: np.ndarray, need: np.ndarray, probe_rows: np.ndarray) -> np.ndarray:
        """`_signature_ok` for a block's many pairs: the same bound over the 64-bit folds first, looser but
        read from a table a quarter the size of the signatures', which stays in cache (a random read of a
        signature is a cache miss), then the 256 bits for the pairs that pass."""
        fold_x = self._folds[probe_rows]
        ok = np.bitwise_count(fold_x & self._folds[ids]) + (m - np.bitwise_count(fold_x).astype(np.int64)) >= need
        at = np.flatnonzero(ok)
        ok[at] = self._signature_ok(m[at], ids[at], need[at], probe_rows[at])
        return ok

    def _signature_ok(self, m, ids: np.ndarray, need: np.ndarray, probe_rows) -> np.ndarray:
        """Which (probe of length m, text id) pairs have an overlap bound (step 6) that reaches need, as a
        mask: shared elements set the same signature bit in both texts."""
        sig_x = self._sigs[probe_rows]
        shared = np.bitwise_count(sig_x & self._sigs[ids]).sum(axis=-1, dtype=np.int64)
        return shared + (m - np.bitwise_count(sig_x).sum(axis=-1, dtype=np.int64)) >= need

    @staticmethod
    def _block_pairs(keys: np.ndarray, probe: np.ndarray, last: np.ndarray):
        """Pairs of block texts sharing a pair key, the later one as the probe:
        (probe, earlier block position, pair's last position in the probe, in the earlier text)."""
        order = np.lexsort((probe, keys))  # within a key, block order (a text has each key once)
        keys, probe, last = keys[order], probe[order], last[order]
        at = np.arange(len(keys))
        start = np.ones(len(keys), dtype=bool)
        start[1:] = keys[1:] != keys[:-1]
        group_start = np.maximum.accumulate(np.where(start, at, 0)) if len(keys) else at
        earlier_count = at - group_start
        later = np.repeat(at, earlier_count)
        offsets = ragged_arange(earlier_count)
        earlier = group_start[later] + offsets
        return probe[later], probe[earlier], last[later], last[earlier]

    def _needs(self, m: np.ndarray, n: np.ndarray) -> np.ndarray:
        """`need` over arrays: need depends on m + n only, so it is read from a table of the same
        float64 operations over every sum, and gives the same integers."""
        total = m + n
        top = int(total.max(initial=0))
        if top >= len(self._need_by_sum):
            sums = np.arange(2 * top + 2, dtype=np.int64)
            self._need_by_sum = np.maximum(1, np.ceil(self.level * sums / 2 * (1 - SLACK))).astype(np.int64)
        return self._need_by_sum[total]


def _entries(rid: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Index entries: text id << _POS_BITS | the key's depth in that text (capped: a looser, safe bound)."""
    return (rid << _POS_BITS) | np.minimum(q, _POS_MAX)


@lru_cache(maxsize=8)
def _pair_template(longest: int) -> tuple[np.ndarray, np.ndarray]:
    """All position pairs (i, j), i < j < longest, ordered by j then i: the first C(p, 2) of them are
    exactly the pairs inside a prefix of p elements, in `pairs_of`'s order."""
    last = np.concatenate([np.full(j, j, dtype=np.int64) for j in range(1, max(longest, 2))])
    first = np.concatenate([np.arange(j, dtype=np.int64) for j in range(1, max(longest, 2))])
    return first, last
