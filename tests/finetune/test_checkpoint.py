"""Checkpoints are written whole or not at all, carry their files' hashes, and resume skips a
damaged newest one for the newest intact one."""

from __future__ import annotations

import logging

import pytest
import torch
from accelerate import Accelerator

from finetune.checkpoint import STATE_FILE, DamagedCheckpoint, find_checkpoint, save_checkpoint, verify_checkpoint


@pytest.fixture
def saved(tmp_path):
    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(64, 64)
    optimizer = torch.optim.AdamW(model.parameters())
    model, optimizer = accelerator.prepare(model, optimizer)
    for step in (1, 2, 3):
        save_checkpoint(accelerator, tmp_path, step, {"total_steps": 3}, keep=2)
    return tmp_path


def test_only_finished_checkpoints_with_hashes_remain(saved):
    names = sorted(p.name for p in (saved / "checkpoints").iterdir())
    assert names == ["step-0000002", "step-0000003"]  # keep=2, no temporary folder left
    state = verify_checkpoint(saved / "checkpoints" / "step-0000003")
    assert state["step"] == 3 and "model.safetensors" in state["files"] and len(state["files"]) >= 3


@pytest.mark.parametrize("damage", ["flip_byte", "no_state_file"])
def test_auto_resume_falls_back_to_the_newest_intact_checkpoint(saved, caplog, damage):
    newest = saved / "checkpoints" / "step-0000003"
    if damage == "flip_byte":
        weights = newest / "model.safetensors"
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    else:
        (newest / STATE_FILE).unlink()
    with caplog.at_level(logging.WARNING, logger="finetune.checkpoint"):
        assert find_checkpoint(saved, "auto") == saved / "checkpoints" / "step-0000002"
    assert "step-0000003" in caplog.text and "newest intact" in caplog.text
    with pytest.raises(DamagedCheckpoint, match="step-0000003"):
        find_checkpoint(saved, str(newest))  # a checkpoint named explicitly must be intact
