"""One optimizer step over a process's micro-batches, and the evaluation loss."""

from __future__ import annotations

from contextlib import nullcontext

from finetune.batching import MicroBatch, deal_step
from finetune.collate import collate
from finetune.encode import IGNORE_INDEX, Encoded


def forward_loss_sum(model, batch, select_logits: bool = False):
    """Summed cross-entropy over the batch's targets (fp32 logits, as the HF loss does).

    `select_logits` (for models that take a boolean `logits_to_keep`, see
    finetune.model.selects_logits): the output head and the cross-entropy run only at positions
    that have a target, not over the prompt and padding, whose terms are ignored anyway. The sum
    and its gradient are the same; the work skipped is a (prompt + padding) share of the
    vocabulary projection.
    """
    import torch.nn.functional as F

    kwargs = {"input_ids": batch["input_ids"], "position_ids": batch["position_ids"]}
    if "attention_mask" in batch:
        kwargs["attention_mask"] = batch["attention_mask"]
    targets = batch["targets"]
    if select_logits:
        keep = targets != IGNORE_INDEX
        logits = model(**kwargs, use_cache=False, logits_to_keep=keep).logits  # (kept, vocab)
        return F.cross_entropy(logits.float(), targets[keep], reduction="sum")
    logits = model(**kwargs, use_cache=False).logits
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(),
                           ignore_index=IGNORE_INDEX, reduction="sum")


def to_device(batch: dict, device) -> dict:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}


def collate_step(micro_batches: list[MicroBatch], examples: list[Encoded], pad_id: int, packed: bool) -> list[dict]:
    """The tensors of every micro-batch of one process's share of a step."""
    return [collate(mb, examples, pad_id, packed) for mb in micro_batches]


def train_step(accelerator, model, batches: list[dict], loss_averaging: str, select_logits: bool = False) -> dict:
    """Forward/backward every collated micro-batch (gradient sync on the last only); no
    optimizer step.

    loss_averaging="micro_batch": each micro-batch contributes its own token mean, divided by
    the number of micro-batches (transformers 4.28, what Alpaca ran); the data-parallel
    gradient average then divides by processes. "token": every target token of the global
    batch weighs the same (transformers >= 4.46, PR #34191): the sum is divided by the global
    target count, times the process count to undo the data-parallel average.
    """
    import torch
    from accelerate.utils import DistributedType

    counts = torch.tensor([float(sum(b["target_tokens"] for b in batches))], device=accelerator.device)
    global_targets = accelerator.reduce(counts, "sum").item()
    loss_sum = torch.zeros((), device=accelerator.device)  # stays on device: no sync per micro-batch
    micro_mean_sum = torch.zeros((), device=accelerator.device)
    # DDP: skip the gradient all-reduce until the last micro-batch. FSDP: reduce-scatter after
    # every micro-batch, since no_sync would keep a full unsharded gradient on every GPU.
    fsdp = accelerator.distributed_type == DistributedType.FSDP
    for j, batch in enumerate(batches):
        last = j == len(batches) - 1
        with nullcontext() if last or fsdp else accelerator.no_sync(model):
            s = forward_loss_sum(model, to_device(batch, accelerator.device), select_logits)
            if loss_averaging == "token":
                loss = s * accelerator.num_processes / max(global_targets, 1.0)
            else:
                loss = s / max(batch["target_tokens"], 1) / len(batches)
            accelerator.backward(loss)
        loss_sum += s.detach()
        micro_mean_sum += s.detach() / max(batch["target_tokens"], 1)
    counters = torch.tensor([float(len(batches)), float(sum(b["real_tokens"] for b in batches)),
                             float(sum(b["slots"] for b in batches))], device=accelerator.device)
    stats = torch.cat([torch.stack([loss_sum, micro_mean_sum]), counters])
    s_loss, s_micro, n_micro, real, slots = accelerator.reduce(stats, "sum").tolist()
    loss = s_loss / max(global_targets, 1.0) if loss_averaging == "token" else s_micro / n_micro
    return {"loss": loss, "real_tokens": int(real), "slots": int(slots),
            "target_tokens": int(global_targets)}


def evaluate(accelerator, model, examples: list[Encoded], batch_size: int, pad_id: int,
             select_logits: bool = False) -> float | None:
    """Token-mean loss over the held-out examples, split evenly over processes."""
    import torch

    if not examples:
        return None
    by_length = sorted(range(len(examples)), key=lambda i: len(examples[i]))
    share = deal_step([[i] for i in by_length], accelerator.num_processes, batch_size)
    model.eval()
    total = torch.zeros(2, device=accelerator.device)
    with torch.no_grad():
        for mb in share[accelerator.process_index]:
            batch = collate(mb, examples, pad_id, packed=False)
            total[0] += forward_loss_sum(model, to_device(batch, accelerator.device), select_logits)
            total[1] += batch["target_tokens"]
    model.train()
    s, n = accelerator.reduce(total, "sum").tolist()
    return s / n if n else None
