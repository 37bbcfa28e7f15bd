"""FLOPs per token, device lookup and the memory estimate."""

from __future__ import annotations

import pytest
from transformers import LlamaConfig

from finetune.flops import device_key, flops_per_token, memory_per_gpu, shape_of


def test_shape_counts_matmul_weights_without_the_input_embedding():
    cfg = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=False)
    shape = shape_of(cfg)
    per_layer = 4 * 64 * 64 + 3 * 64 * 128 + 2 * 64  # attention, MLP, two RMSNorms
    assert shape.params == 2 * per_layer + 2 * 1000 * 64 + 64
    assert shape.matmul_params == shape.params - 1000 * 64
    assert flops_per_token(shape, 100) == 6 * shape.matmul_params + 12 * 2 * 64 * 100


@pytest.mark.parametrize("name, key", [
    ("NVIDIA H100 80GB HBM3", "h100"), ("NVIDIA H100 PCIe", "h100-pcie"),
    ("NVIDIA A100-SXM4-40GB", "a100-40gb"), ("NVIDIA A100-SXM4-80GB", "a100-80gb"),
    ("NVIDIA H200", "h200"), ("NVIDIA GeForce RTX 4090", None)])
def test_device_names_map_to_peaks(name, key):
    assert device_key(name) == key


def test_sharding_divides_states_but_not_activations():
    cfg = LlamaConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4)
    shape = shape_of(cfg)
    one = memory_per_gpu(shape, 1, sharded=False, tokens_per_micro_batch=512, checkpointing=False)
    eight = memory_per_gpu(shape, 8, sharded=True, tokens_per_micro_batch=512, checkpointing=False)
    assert eight["optimizer"] == pytest.approx(one["optimizer"] / 8)
    assert eight["activations"] == one["activations"]
    ckpt = memory_per_gpu(shape, 1, sharded=False, tokens_per_micro_batch=512, checkpointing=True)
    assert ckpt["activations"] < one["activations"]
