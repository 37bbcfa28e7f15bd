"""Build the tensors of one micro-batch: rows padded to the longest, packed or not."""

from __future__ import annotations

from finetune.batching import MicroBatch
from finetune.encode import IGNORE_INDEX, Encoded, shifted_targets


def collate(mb: MicroBatch, examples: list[Encoded], pad_id: int, packed: bool) -> dict:
    """Tensors for the model plus `targets` (already shifted) and token counts.

    Unpacked rows get an attention mask over right padding, as Alpaca's collator. Packed rows
    get no attention mask but position ids that restart at 0 for every example: transformers
    reads the restarts as sequence boundaries (a block-diagonal causal mask for sdpa/eager,
    variable-length kernels for flash attention), so packed examples never see each other.
    Padding after the last example forms its own short "sequence" whose targets are ignored.
    """
    import torch

    rows = mb.rows or [[]]  # an empty share (last, uneven step) still runs one dummy forward
    ids, tgt, pos = [], [], []
    for row in rows:
        r_ids, r_tgt, r_pos = [], [], []
        for i in row:
            ex = examples[i]
            r_ids += ex.input_ids
            r_tgt += shifted_targets(ex.labels)
            r_pos += range(len(ex.input_ids))
        ids.append(r_ids or [pad_id])
        tgt.append(r_tgt or [IGNORE_INDEX])
        pos.append(r_pos or [0])
    width = max(len(r) for r in ids)
    real = sum(len(r) for r, row in zip(ids, rows) if row)
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in ids]
    for r_ids, r_tgt, r_pos in zip(ids, tgt, pos):
        n = width - len(r_ids)
        r_ids += [pad_id] * n
        r_tgt += [IGNORE_INDEX] * n
        r_pos += range(n)
    batch = {
        "input_ids": torch.tensor(ids),
        "targets": torch.tensor(tgt),
        "position_ids": torch.tensor(pos),
    }
    if not packed:
        batch["attention_mask"] = torch.tensor(mask)
    batch["real_tokens"] = real
    batch["slots"] = width * len(ids)
    batch["target_tokens"] = int((batch["targets"] != IGNORE_INDEX).sum())
    return batch
