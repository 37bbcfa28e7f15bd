"""The batch planner: coverage, packing capacity, process split, padding share."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune.batching import pack_rows, padding_stats, plan_epoch
from finetune.config import FinetuneConfig


def _lengths(n=500, seed=1):
    rng = random.Random(seed)
    return [min(512, int(rng.lognormvariate(4.7, 0.5))) + 8 for _ in range(n)]


def _examples(plan):
    return [i for step in plan for share in step for mb in share for row in mb.rows for i in row]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 64), min_size=1, max_size=80))
def test_pack_rows_covers_each_example_once_within_capacity(lengths):
    rows = pack_rows(list(range(len(lengths))), lengths, 64)
    assert sorted(i for r in rows for i in r) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in r) <= 64 for r in rows)


@pytest.mark.parametrize("change", [
    {}, {"batching": "grouped"}, {"packing": True}, {"packing": True, "pack_unit": "rows"}])
@pytest.mark.parametrize("processes", [1, 2, 3])
def test_every_example_once_per_epoch_and_equal_micro_batches(change, processes):
    lengths = _lengths()
    cfg = FinetuneConfig(global_batch_size=24, per_device_batch_size=4, **change)
    plan = plan_epoch(lengths, cfg, processes, epoch=0)
    assert sorted(_examples(plan)) == list(range(len(lengths)))
    for step in plan:
        assert len(step) == processes
        assert len({len(share) for share in step}) == 1  # same number of forwards everywhere
    if not cfg.packing:
        assert all(sum(len(mb.rows) for share in s for mb in share) == 24 for s in plan[:-1]) or \
            cfg.batching == "grouped"
    assert _examples(plan_epoch(lengths, cfg, processes, 1)) != _examples(plan)


def test_one_process_sees_the_micro_batches_of_two():
    """On full steps; a partial last step is split evenly, so its micro-batches differ."""
    lengths = _lengths(496)
    one = plan_epoch(lengths, FinetuneConfig(global_batch_size=16, per_device_batch_size=4), 1, 0)
    two = plan_epoch(lengths, FinetuneConfig(global_batch_size=16, per_device_batch_size=4), 2, 0)
    for s1, s2 in zip(one, two):
        assert [mb.rows for mb in s1[0]] == [mb.rows for share in s2 for mb in share]


def test_grouping_and_packing_cut_padding():
    lengths = _lengths(2000)
    share = {}
    for name, change in {"random": {}, "grouped": {"batching": "grouped"},
                         "packed": {"packing": True}}.items():
        cfg = FinetuneConfig(global_batch_size=128, per_device_batch_size=4, **change)
        share[name] = padding_stats(plan_epoch(lengths, cfg, 1, 0), lengths)["padded_share"]
    assert share["random"] > 0.2
    assert share["grouped"] < share["random"] / 4
    assert share["packed"] < share["random"] / 2
