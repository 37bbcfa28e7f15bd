"""Postings a whole block of probes reads at once: sorted numpy arrays instead of a dictionary of lists.

`RougeIndex.check_and_add_many` looks up about 17 keys per text, 34,000 per block of 2,048 texts.
In a Python dictionary of millions of keys each lookup is a cache miss plus interpreter work; here
a block's keys are numbered through one vectorised hash table (`KeyTable`), and the entries of every
key are found as ranges of sorted arrays (`SortedPostings`), so reading a block costs a few numpy
calls whatever the pool size.

An entry is (key id, length slot, entry value), sorted by `key id << 6 | slot`: the entries of one
key are contiguous, split by the indexed text's length (slot min(n, LEN_CAP)), so a probe reads only
the lengths it can meet. New entries go to a small sorted `delta` run, searched with
`np.searchsorted`; when it grows past an eighth of the `base` run, the two are merged, and the
base is addressed directly by key id (`start`), with a table of per-length offsets for long keys.
Merging geometrically keeps the total merge work linear in the entries.
"""

from __future__ import annotations

import numpy as np

from selfinstruct.rouge_batch import ragged_positions

LEN_CAP = 48  # entries of texts this long or longer share the last length slot
_SLOT_BITS = 6  # slot < 64
_SPLIT = 32  # a key with more base entries than this gets per-slot offsets
_MIN_DELTA = 1 << 16  # the delta run is merged into the base once it is this long and an eighth of it
_MUL = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing


class KeyTable:
    """Distinct non-negative int64 keys numbered 0, 1, 2, ... in order of addition; open addressing
    with linear probing, each operation a few whole-array rounds."""

    def __init__(self) -> None:
        self._bits = 10
        self._slots = np.full(1 << self._bits, -1, dtype=np.int64)  # key, or -1 for a free slot
        self._ids = np.zeros(1 << self._bits, dtype=np.int64)
        self._keys = np.zeros(0, dtype=np.int64)  # by id

    def __len__(self) -> int:
        return len(self._keys)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _MUL) >> np.uint64(64 - self._bits)).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The id of each key, -1 for keys never added."""
        out = np.full(len(keys), -1, dtype=np.int64)
        pending = np.arange(len(keys))
        slot = self._home(keys)
        mask = len(self._slots) - 1
        while len(pending):
            found = self._slots[slot]
            hit = found == keys[pending]
            out[pending[hit]] = self._ids[slot[hit]]
            again = ~hit & (found >= 0)
            pending, slot = pending[again], (slot[again] + 1) & mask
        return out

    def add(self, keys: np.ndarray) -> np.ndarray:
        """Number `keys` (distinct, none added before) from len(self) on; returns their ids."""
        ids = np.arange(len(self._keys), len(self._keys) + len(keys), dtype=np.int64)
        self._keys = np.concatenate((self._keys, keys))
        if 2 * len(self._keys) > len(self._slots):  # keep the load under one half
            while 2 * len(self._keys) > (1 << self._bits):
                self._bits += 1
            self._slots = np.full(1 << self._bits, -1, dtype=np.int64)
            self._ids = np.zeros(1 << self._bits, dtype=np.int64)
            self._place(self._keys, np.arange(len(self._keys), dtype=np.int64))
        else:
            self._place(keys, ids)
        return ids

    def _place(self, keys: np.ndarray, ids: np.ndarray) -> None:
        slot = self._home(keys)
        mask = len(self._slots) - 1
        while len(keys):
            free = np.flatnonzero(self._slots[slot] < 0)
            _, first = np.unique(slot[free], return_index=True)  # one key per free slot and round
            won = free[first]
            self._slots[slot[won]] = keys[won]
            self._ids[slot[won]] = ids[won]
            rest = np.ones(len(keys), dtype=bool)
            rest[won] = False
            # Every slot a key moves past is taken, so a lookup walking from its home finds it.
            keys, ids, slot = keys[rest], ids[rest], (slot[rest] + 1) & mask


def _merge(c1: np.ndarray, e1: np.ndarray, c2: np.ndarray, e2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two runs sorted by c merged into one (c2's entries after c1's equal ones)."""
    at = np.searchsorted(c1, c2, side="right") + np.arange(len(c2))
    c = np.empty(len(c1) + len(c2), dtype=np.int64)
    e = np.empty(len(c), dtype=np.int64)
    rest = np.ones(len(c), dtype=bool)
    rest[at] = False
    c[at], e[at] = c2, e2
    c[rest], e[rest] = c1, e1
    return c, e


class SortedPostings:
    """Entries (int64) under (key id, length slot), read for many (key id, slot range) at once."""

    def __init__(self) -> None:
        self._base_c = self._base_e = self._delta_c = self._delta_e = np.zeros(0, dtype=np.int64)
        self._start = np.zeros(1, dtype=np.int64)  # base entries of key k: start[k]:start[k + 1]
        self._long_row = np.zeros(0, dtype=np.int64)  # key id -> row of `_slot_start`, -1 if short
        self._slot_start = np.zeros((0, LEN_CAP + 2), dtype=np.int64)  # row, slot -> first base entry

    def __len__(self) -> int:
        return len(self._base_c) + len(self._delta_c)

    def add(self, kid: np.ndarray, slot: np.ndarray, entry: np.ndarray) -> None:
        """Add entries (any order)."""
        c = (kid << _SLOT_BITS) | slot
        order = np.argsort(c, kind="stable")
        self._delta_c, self._delta_e = _merge(self._delta_c, self._delta_e, c[order], entry[order])
        if len(self._delta_c) >= max(_MIN_DELTA, len(self._base_c) >> 3):
            self._set_base(*_merge(self._base_c, self._base_e, self._delta_c, self._delta_e))
            self._delta_c = self._delta_e = np.zeros(0, dtype=np.int64)

    def _set_base(self, c: np.ndarray, e: np.ndarray) -> None:
        self._base_c, self._base_e = c, e
        kid = c >> _SLOT_BITS
        keys = int(kid[-1]) + 1 if len(kid) else 0
        counts = np.bincount(kid, minlength=keys)
        self._start = np.zeros(keys + 1, dtype=np.int64)
        np.cumsum(counts, out=self._start[1:])
        long_keys = np.flatnonzero(counts > _SPLIT)
        self._long_row = np.full(keys, -1, dtype=np.int64)
        self._long_row[long_keys] = np.arange(len(long_keys))
        rows = self._long_row[kid]
        inside = rows >= 0
        width = LEN_CAP + 2
        per_slot = np.bincount(rows[inside] * width + (c[inside] & ((1 << _SLOT_BITS) - 1)) + 1,
                               minlength=len(long_keys) * width).reshape(len(long_keys), width)
        self._slot_start = self._start[long_keys][:, None] + np.cumsum(per_slot, axis=1)

    def read(self, kid: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every entry under key kid[i] with slot in [lo[i], hi[i]), for each i (kid -1: none), as
        (entries, i of each entry). A key with few base entries gives all of them when the range is not
        empty: sorting out the few of other lengths costs more than the caller's exact filters do."""
        in_base = np.flatnonzero((kid >= 0) & (kid < len(self._start) - 1) & (lo < hi))
        k = kid[in_base]
        begin, end = self._start[k], self._start[k + 1]
        row = self._long_row[k]
        split = np.flatnonzero(row >= 0)
        begin[split] = self._slot_start[row[split], lo[in_base[split]]]
        end[split] = self._slot_start[row[split], hi[in_base[split]]]
        count = end - begin
        entries = [self._base_e[ragged_positions(begin, count)]]
        reader = [np.repeat(in_base, count)]
        if len(self._delta_c):
            # Searched in key order: consecutive searches then walk nearby parts of the run.
            known = np.flatnonzero((kid >= 0) & (lo < hi))
            known = known[np.argsort(kid[known], kind="stable")]
            k = kid[known] << _SLOT_BITS
            begin = np.searchsorted(self._delta_c, k | lo[known])
            count = np.searchsorted(self._delta_c, k | hi[known]) - begin
            entries.append(self._delta_e[ragged_positions(begin, count)])
            reader.append(np.repeat(known, count))
        return np.concatenate(entries), np.concatenate(reader)
