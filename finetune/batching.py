"""Which examples go into which row, micro-batch, process and optimizer step.

The plan is a pure function of (lengths, config, processes, epoch), computed identically on
every process, so resuming needs only the step number and one process sees exactly the
micro-batches that several processes would see between them.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

from finetune.config import FinetuneConfig


@dataclass
class MicroBatch:
    """Rows of one forward pass on one process; each row lists example indices (packed > 1)."""

    rows: list[list[int]]


Step = list[list[MicroBatch]]
"""One optimizer step: for each process, its micro-batches (every process has as many)."""


def pack_rows(indices: list[int], lengths: list[int], row_length: int) -> list[list[int]]:
    """Best-fit decreasing: each example (longest first) goes to the fullest row it fits in."""
    order = sorted(indices, key=lambda i: -lengths[i])  # stable: ties keep the shuffled order
    rows: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (remaining tokens, row id), kept sorted
    for i in order:
        need = min(lengths[i], row_length)
        at = bisect.bisect_left(free, (need, -1))
        if at == len(free):
            rows.append([i])
            bisect.insort(free, (row_length - need, len(rows) - 1))
        else:
            remaining, row = free.pop(at)
            rows[row].append(i)
            bisect.insort(free, (remaining - need, row))
    return rows


def split_even(items: list, parts: int) -> list[list]:
    """`parts` contiguous chunks whose sizes differ by at most one (some may be empty)."""
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def deal_step(rows: list[list[int]], processes: int, per_batch: int) -> Step:
    """Split a step's rows over processes, then into the same number of micro-batches each."""
    shares = split_even(rows, processes)
    micro = max(1, max(math.ceil(len(s) / per_batch) for s in shares))
    return [[MicroBatch(chunk) for chunk in split_even(share, micro)] for share in shares]


def plan_epoch(lengths: list[int], config: FinetuneConfig, processes: int, epoch: int) -> list[Step]:
    """The optimizer steps of one epoch over examples with these token lengths."""
    rng = random.Random(config.seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    g, b = config.global_batch_size, config.per_device_batch_size
    if config.packing and config.pack_unit == "rows":
        rows = pack_rows(order, lengths, config.row_length)
        rng.shuffle(rows)
        return [deal_step(rows[s:s + g], processes, b) for s in range(0, len(rows), g)]
    if config.batching == "grouped" and not config.packing:
        # As transformers' group_by_length: sort windows of `group_size` global batches by
        # length so each micro-batch holds similar lengths, then shuffle the steps.
        window = config.group_size * g
        order = [i for s in range(0, len(order), window)
                 for i in sorted(order[s:s + window], key=lambda i: -lengths[i])]
    steps = [order[s:s + g] for s in range(0, len(order), g)]
    if config.packing:
        plan = [deal_step(pack_rows(step, lengths, config.row_length), processes, b) for step in steps]
    else:
        plan = [deal_step([[i] for i in step], processes, b) for step in steps]
    if config.batching == "grouped" and not config.packing:
        longest = max(range(len(plan)), key=lambda s: max(lengths[i] for i in steps[s]))
        rest = [p for k, p in enumerate(plan) if k != longest]
        rng.shuffle(rest)
        plan = [plan[longest], *rest]  # longest first: an out-of-memory shows at step 1
    return plan


def padding_stats(plan: list[Step], lengths: list[int]) -> dict[str, int | float]:
    """Real and padded token slots when each micro-batch is padded to its longest row."""
    real = slots = 0
    for step in plan:
        for share in step:
            for mb in share:
                row_lens = [sum(lengths[i] for i in row) for row in mb.rows]
                real += sum(row_lens)
                slots += len(row_lens) * max(row_lens, default=0)
    return {"real_tokens": real, "slots": slots, "padded_tokens": slots - real,
            "padded_share": (slots - real) / slots if slots else 0.0}


def total_steps(steps_per_epoch: int, epochs: float) -> int:
    """Optimizer steps the schedule spans (fractional epochs round up)."""
    return max(1, math.ceil(steps_per_epoch * epochs))
