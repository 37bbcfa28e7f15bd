"""Model FLOPs per token, device peaks for MFU, and a memory estimate per GPU."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    name: str
    peak_tflops: float
    """Dense bf16 tensor-core peak (NVIDIA datasheets; sparse figures halved)."""
    memory_gb: float


# A100: 312 TFLOP/s bf16 (nanoGPT's estimate_mfu uses the same); H100 SXM: 989.5 dense
# (1,979 with 2:4 sparsity); H100 PCIe: 756; H200 has the H100 SXM's compute.
DEVICES = {
    "a100-40gb": Device("NVIDIA A100 40GB", 312.0, 40),
    "a100-80gb": Device("NVIDIA A100 80GB", 312.0, 80),
    "h100": Device("NVIDIA H100 SXM 80GB", 989.5, 80),
    "h100-pcie": Device("NVIDIA H100 PCIe 80GB", 756.0, 80),
    "h200": Device("NVIDIA H200 141GB", 989.5, 141),
}


CPU_TFLOPS_PER_CORE = 0.08
"""Assumed fp32 peak of one x86 core: 2.5 GHz x 32 FLOPs/cycle (two AVX2 FMA units)."""


def cpu_device() -> Device:
    """This machine's CPUs as a plan target: an assumed peak per core, and its RAM as memory."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return Device(f"CPU ({cores} cores)", cores * CPU_TFLOPS_PER_CORE, round(ram, 1))


def device_key(cuda_name: str) -> str | None:
    """Map torch.cuda.get_device_name() (e.g. 'NVIDIA H100 80GB HBM3') to a DEVICES key."""
    name = cuda_name.upper()
    if "H200" in name:
        return "h200"
    if "H100" in name:
        return "h100-pcie" if "PCIE" in name else "h100"
    if "A100" in name:
        return "a100-40gb" if "40GB" in name else "a100-80gb"
    return None


def detect_device() -> tuple[str, float | None]:
    """(device description, peak TFLOP/s or None when unknown, e.g. on CPU)."""
    import torch

    if not torch.cuda.is_available():
        return "cpu", None
    name = torch.cuda.get_device_name()
    key = device_key(name)
    return name, DEVICES[key].peak_tflops if key else None


@dataclass(frozen=True)
class Shape:
    """What the FLOP and memory formulas need from a model config."""

    params: int
    """All parameters."""
    matmul_params: int
    """Parameters used in matmuls: all but an untied input embedding (a lookup, no FLOPs)."""
    layers: int
    hidden: int
    vocab: int


def shape_of(model_config) -> Shape:
    """Count parameters from the config alone (builds the model on the meta device)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config)
    total = sum(p.numel() for p in model.parameters())
    emb = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    tied = out is not None and out.weight is emb
    return Shape(total, total - (0 if tied else emb.numel()), model_config.num_hidden_layers,
                 model_config.hidden_size, model_config.vocab_size)


def flops_per_token(shape: Shape, context: float) -> float:
    """Training FLOPs per token: 6N plus attention 12*L*d*context (PaLM appendix B, nanoGPT).

    `context` is the token-weighted mean length of the sequences a token attends within
    (sum l^2 / sum l over examples), which is what packing with boundaries preserves.
    """
    return 6 * shape.matmul_params + 12 * shape.layers * shape.hidden * context


def memory_per_gpu(shape: Shape, gpus: int, sharded: bool, tokens_per_micro_batch: int,
                   checkpointing: bool, lora: bool = False) -> dict[str, float]:
    """GiB per GPU: fp32 weights, fp32 grads, AdamW moments (2 x fp32), activations.

    Activations use about 34*d bytes per token per layer in 16-bit with memory-efficient
    attention (Korthikanti et al. 2022, table 2 without the s^2 term), or 2*d with activation
    checkpointing plus one layer's worth; logits add 10 bytes per token per vocabulary entry
    (bf16 logits, fp32 copy for the loss, its gradient). LoRA: only the weights, frozen.
    """
    gib = 1024 ** 3
    share = gpus if sharded else 1
    weights = 4 * shape.params / share
    grads = 0.0 if lora else 4 * shape.params / share
    optimizer = 0.0 if lora else 8 * shape.params / share
    per_layer = 34 * shape.hidden * tokens_per_micro_batch
    layers = (2 * shape.hidden * tokens_per_micro_batch * shape.layers + per_layer) if checkpointing \
        else per_layer * shape.layers
    activations = layers + 10 * shape.vocab * tokens_per_micro_batch
    parts = {"weights": weights, "grads": grads, "optimizer": optimizer, "activations": activations}
    out = {k: v / gib for k, v in parts.items()}
    out["total"] = sum(out.values())
    return out
