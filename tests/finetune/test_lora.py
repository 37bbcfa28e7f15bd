"""The LoRA recipe (optional peft): adapters train, and the export is a plain merged model."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from finetune.config import load_config
from finetune.train import train

pytest.importorskip("peft")


def test_lora_exports_merged_weights(tmp_path, records_file, tiny_model):
    out = train(load_config("lora", ["max_steps=2", "learning_rate=3e-3", "warmup_ratio=0",
                                     "global_batch_size=8", "per_device_batch_size=4",
                                     "precision=fp32", "progress_bar=false", "save_every=0",
                                     "eval_fraction=0"],
                            dataset=str(records_file), model=str(tiny_model),
                            output=str(tmp_path / "lora")))
    base, tuned = load_file(str(tiny_model / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert base.keys() == tuned.keys()  # no adapter keys: merged into the base weights
    name = "model.layers.0.self_attn.{}_proj.weight"
    assert not torch.allclose(base[name.format("q")], tuned[name.format("q")])
    assert torch.equal(base[name.format("k")], tuned[name.format("k")])  # not a LoRA target
