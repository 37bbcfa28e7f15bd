"""The array postings a block reads give exactly what a dictionary of lists gives."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from selfinstruct import rouge_candidates, rouge_index, rouge_postings
from selfinstruct.dedup import RougeIndex
from selfinstruct.rouge_candidates import CandidateFilter
from selfinstruct.rouge_postings import KeyTable, SortedPostings
from tests.selfinstruct.test_dedup import brute_force_decisions, make_edge_stream, make_mixed_stream


def test_key_table_numbers_keys_like_a_dictionary():
    rng = np.random.default_rng(0)
    table, reference = KeyTable(), {}
    for _ in range(30):  # grows through many rehashes; keys collide in their home slots
        keys = np.unique(rng.integers(0, 1 << 40, rng.integers(0, 3000)))
        keys = keys[[int(k) not in reference for k in keys.tolist()]]
        ids = table.add(rng.permutation(keys))
        reference.update(zip(table._keys[ids].tolist(), ids.tolist()))
        probes = np.concatenate((keys, rng.integers(0, 1 << 40, 500), np.array(list(reference)[:50], dtype=np.int64)))
        assert table.lookup(probes).tolist() == [reference.get(k, -1) for k in probes.tolist()]
    assert len(table) == len(reference) and sorted(reference.values()) == list(range(len(reference)))


def test_sorted_postings_read_every_entry_in_the_slot_range(monkeypatch):
    monkeypatch.setattr(rouge_postings, "_MIN_DELTA", 500)  # many merges into the base, a delta left over
    monkeypatch.setattr(rouge_postings, "_SPLIT", 3)  # most keys with per-slot offsets
    rng = np.random.default_rng(1)
    postings, kept = SortedPostings(), []
    for step in range(12):
        n = int(rng.integers(1, 400))
        kid = rng.integers(0, 40 + 10 * step, n)
        slot = rng.integers(0, rouge_postings.LEN_CAP + 1, n)
        entry = (kid << 20) | (slot << 12) | rng.integers(0, 1 << 12, n)  # names its key and slot
        postings.add(kid, slot, entry)
        kept += zip(kid.tolist(), slot.tolist(), entry.tolist())
        kid = np.concatenate((rng.integers(-1, 200, 300), [-1, 0]))
        lo = rng.integers(0, rouge_postings.LEN_CAP + 2, len(kid))
        hi = rng.integers(0, rouge_postings.LEN_CAP + 2, len(kid))
        entries, at = postings.read(kid, lo, hi)
        got = Counter(zip(at.tolist(), entries.tolist()))
        want = Counter((i, e) for i, (k, a, b) in enumerate(zip(kid.tolist(), lo.tolist(), hi.tolist()))
                       for kk, s, e in kept if kk == k and a <= s < b)
        assert not want - got
        # A key with few base entries is read whole (the caller's filters are exact): other slots, never
        # another key, and nothing for an empty range.
        assert all(e >> 20 == kid[i] and lo[i] < hi[i] for i, e in got - want)
    assert len(postings) == len(kept)


@pytest.mark.parametrize("level", [0.2, 0.5, 0.7, 0.9, 1.0])
def test_slot_spans_over_arrays_equal_the_spans_of_one_probe(level):
    filt = CandidateFilter(level)
    m, q = np.meshgrid(np.arange(1, 130), np.arange(0, 131))
    m, q = m.ravel(), q.ravel()
    keep = q <= m
    m, q = m[keep], q[keep]
    lo, hi = filt._slot_spans(m, q)
    split = list(range(rouge_candidates._LEN_CAP + 1))  # a split list whose parts are their slots
    for mm, qq, a, b in zip(m.tolist(), q.tolist(), lo.tolist(), hi.tolist()):
        assert split[a:b] == filt._parts(split, mm, qq), (mm, qq)


@pytest.mark.parametrize("tokenizer", ["rouge", "unicode"])
def test_switching_between_blocks_and_one_at_a_time_keeps_decisions(monkeypatch, tokenizer):
    monkeypatch.setattr(rouge_index, "BLOCK", 41)
    monkeypatch.setattr(rouge_postings, "_MIN_DELTA", 64)
    monkeypatch.setattr(rouge_postings, "_SPLIT", 4)
    monkeypatch.setattr(rouge_candidates, "SPLIT", 4)
    long = [" ".join(f"k{k}w{i % 250}" for i in range(300 + k)) for k in range(3)]  # past 255 tokens, repeats
    stream = make_edge_stream(21, 900) + long + [text + " x" for text in long] + make_mixed_stream(22, 600)
    mixed = RougeIndex(0.7, tokenizer, report_floor=0.5)
    verdicts = [mixed.check_and_add(text) for text in stream[:300]]  # the dictionary form
    verdicts += mixed.check_and_add_many(stream[300:500])  # fewer than the pool: converted, not re-ranked
    verdicts += [mixed.check_and_add(text) for text in stream[500:700]]  # back to the dictionary
    verdicts += mixed.check_and_add_many(stream[700:])  # more than the pool: re-ranked, and rebuilt inside
    single = RougeIndex(0.7, tokenizer, report_floor=0.5)
    assert verdicts == [single.check_and_add(text) for text in stream]
    assert [not v.duplicate for v in verdicts] == brute_force_decisions(stream, 0.7, tokenizer)
    assert [v.duplicate for v in verdicts[900:906]] == [False] * 3 + [True] * 3
