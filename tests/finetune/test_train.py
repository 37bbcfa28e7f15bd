"""The training loop end to end on a tiny random Llama (CPU, no network)."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file

from finetune.config import load_config
from finetune.train import train
from commands.main import cli

FAST = ["max_length=128", "learning_rate=3e-3", "warmup_ratio=0", "progress_bar=false",
        "precision=fp32"]


def _run(tmp_path, name, data, model, *overrides, recipe=None):
    cfg = load_config(recipe, [*FAST, *overrides], dataset=str(data), model=str(model),
                      output=str(tmp_path / name))
    return train(cfg)


def _metrics(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def _params(out):
    return load_file(str(out / "model.safetensors"))


@pytest.fixture(scope="module")
def sixteen(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("sixteen") / "sixteen.json"
    path.write_text(json.dumps(records[:16]))
    return path


@pytest.mark.slow
def test_loss_falls_when_overfitting_16_examples(tmp_path, sixteen, tiny_model):
    out = _run(tmp_path, "overfit", sixteen, tiny_model, "epochs=15", "global_batch_size=8",
               "per_device_batch_size=8")
    losses = [m["loss"] for m in _metrics(out) if "loss" in m]
    assert len(losses) == 30
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.slow
def test_resume_reaches_the_same_parameters(tmp_path, records_file, tiny_model):
    # max_steps sets the schedule's length, so a constant schedule lets a shorter run stand in
    # for an interrupted one
    common = ["epochs=1", "global_batch_size=16", "per_device_batch_size=4", "eval_fraction=0.1",
              "scheduler=constant"]
    straight = _run(tmp_path, "straight", records_file, tiny_model, *common, "max_steps=6")
    # the first run goes one step past its checkpoint, as a run killed after step 4 would: the
    # resumed run logs step 4 again, and metrics.jsonl must hold each step once
    _run(tmp_path, "resumed", records_file, tiny_model, *common, "max_steps=4", "save_every=3")
    assert (tmp_path / "resumed" / "checkpoints" / "step-0000003" / "finetune_state.json").exists()
    resumed = _run(tmp_path, "resumed", records_file, tiny_model, *common, "max_steps=6",
                   "resume_from=auto")
    a, b = _params(straight), _params(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key
    straight_losses = [m["loss"] for m in _metrics(straight) if "loss" in m]
    resumed_losses = [m["loss"] for m in _metrics(resumed) if "loss" in m]
    assert [m["step"] for m in _metrics(resumed) if "loss" in m] == [1, 2, 3, 4, 5, 6]
    assert resumed_losses == pytest.approx(straight_losses, rel=1e-5)


@pytest.mark.slow
def test_token_averaging_makes_accumulation_invisible(tmp_path, records_file, tiny_model):
    common = ["max_steps=3", "global_batch_size=8", "loss_averaging=token"]
    whole = _run(tmp_path, "whole", records_file, tiny_model, *common, "per_device_batch_size=8")
    split = _run(tmp_path, "split", records_file, tiny_model, *common, "per_device_batch_size=2")
    a, b = _params(whole), _params(split)
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    micro = _run(tmp_path, "micro", records_file, tiny_model, "max_steps=3", "global_batch_size=8",
                 "loss_averaging=micro_batch", "per_device_batch_size=2")
    c = _params(micro)
    assert not all(torch.allclose(b[k], c[k], atol=1e-5) for k in b)


def test_cli_run_exports_a_model_that_loads_and_generates(tmp_path, records_file, tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, [
        "finetune", "run", "--dataset", str(records_file), "--model", str(tiny_model),
        "--recipe", "tiny-cpu", "--output", str(out), *FAST, "max_steps=4", "packing=true",
        "peak_tflops=0.5",
        "log_every=2"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    prompt = tok("Below is an instruction", return_tensors="pt")
    generated = model.generate(**prompt, max_new_tokens=5, do_sample=False)
    assert generated.shape[1] > prompt["input_ids"].shape[1]
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["datasets"] == [str(records_file)]
    assert meta["training_data"]["content_hash"].startswith("sha256:")
    saved = yaml.safe_load((out / "finetune_config.yaml").read_text())
    assert saved["packing"] is True and saved["max_steps"] == 4 and saved["recipe"] == "tiny-cpu"
    from finetune.templates import load_template

    assert load_template(str(out / "prompt_template.yaml")) == load_template(saved["template"])
    rows = [m for m in _metrics(out) if "loss" in m]
    assert [m["step"] for m in rows] == [2, 4]
    for key in ("learning_rate", "grad_norm", "tokens_per_s", "real_tokens_per_s", "mfu",
                "memory_gb", "epoch_padded_share"):
        assert key in rows[-1]
    assert rows[-1]["real_tokens_per_s"] <= rows[-1]["tokens_per_s"]
    assert rows[-1]["mfu"] == pytest.approx(rows[-1]["tflops_per_device"] / 0.5)
    assert any("eval_loss" in m for m in _metrics(out))


def _not_causal(tmp_path):
    path = tmp_path / "vit"
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"model_type": "vit"}))
    return path


@pytest.mark.parametrize("case, message", [
    ("missing_file", "neither a NAME@V reference nor an existing file"),
    ("not_causal", "not a causal LM"),
    ("no_output_field", r"bad\.jsonl:1: field 'output' is missing"),
    ("max_length", "below the template length"),
])
def test_bad_input_fails_before_training(tmp_path, records_file, tiny_model, case, message):
    data, model, extra = records_file, tiny_model, []
    if case == "missing_file":
        data = tmp_path / "absent.jsonl"
    elif case == "not_causal":
        model = _not_causal(tmp_path)
    elif case == "no_output_field":
        data = tmp_path / "bad.jsonl"
        data.write_text(json.dumps({"instruction": "x", "input": ""}) + "\n")
    else:
        extra = ["max_length=8"]
    cfg = load_config(None, [*FAST[1:], *extra], dataset=str(data), model=str(model),
                      output=str(tmp_path / "out"))
    with pytest.raises(ValueError, match=message):
        train(cfg)
    assert not (tmp_path / "out").exists()


def test_max_steps_counts_total_optimizer_steps(tmp_path, sixteen, tiny_model):
    # 16 examples in batches of 8 are 2 steps per epoch; max_steps=5 repeats the data
    out = _run(tmp_path, "five", sixteen, tiny_model, "epochs=1", "max_steps=5",
               "global_batch_size=8", "per_device_batch_size=8", "log_every=1")
    assert [m["step"] for m in _metrics(out) if "loss" in m] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("value", ["-1", "0"])
def test_non_positive_max_steps_is_refused(value):
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        load_config(None, [f"max_steps={value}"], dataset="x.jsonl", model="m", output="o")


def test_finished_model_is_not_overwritten_without_flag(tmp_path, sixteen, tiny_model):
    args = ["finetune", "run", "--dataset", str(sixteen), "--model", str(tiny_model),
            "--output", str(tmp_path / "out"), *FAST, "max_steps=1", "global_batch_size=8",
            "per_device_batch_size=8"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    before = (tmp_path / "out" / "model.safetensors").read_bytes()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "already holds a finished model" in again.output
    assert "--overwrite" in again.output
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == before
    assert CliRunner().invoke(cli, [*args, "--overwrite"]).exit_code == 0
    (tmp_path / "afile").write_text("")
    unwritable = [*args[:7], str(tmp_path / "afile" / "out"), *args[8:]]
    refused = CliRunner().invoke(cli, unwritable)
    assert refused.exit_code == 2 and "afile is a file, not a folder" in refused.output
