"""Recipes, overrides and `finetune plan`."""

from __future__ import annotations

import json
import math
from importlib import resources

import pytest
import yaml
from click.testing import CliRunner

from finetune.config import load_config, parse_overrides
from finetune.prepare import check_fsdp_fields
from commands.main import cli

RECIPES = sorted(p.name[:-5] for p in (resources.files("finetune") / "recipes").iterdir()
                 if p.name.endswith(".yaml") and not p.name.endswith(".accelerate.yaml"))


@pytest.mark.parametrize("name", RECIPES)
def test_every_bundled_recipe_loads(name):
    cfg = load_config(name)
    assert cfg.recipe == name and cfg.max_length >= 128
    check_fsdp_fields(cfg.fsdp)


def test_alpaca_recipe_is_stanfords():
    cfg = load_config("alpaca-7b")
    assert (cfg.learning_rate, cfg.epochs, cfg.max_length, cfg.global_batch_size) == (2e-5, 3, 512, 128)
    assert (cfg.weight_decay, cfg.warmup_ratio, cfg.scheduler) == (0.0, 0.03, "cosine")
    assert cfg.accumulation_for(8) == 4 and cfg.accumulation_for(4) == 8
    assert not cfg.train_on_prompt and cfg.loss_averaging == "micro_batch"
    launch = yaml.safe_load((resources.files("finetune") / "recipes" / "alpaca-7b.accelerate.yaml").read_text())
    assert launch["distributed_type"] == "FSDP" and launch["num_processes"] == 8
    assert launch["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"] in cfg.fsdp["transformer_cls_names_to_wrap"]


def test_overrides_are_typed_and_checked():
    cfg = load_config("alpaca-7b", ["learning_rate=1e-4", "packing=true", "max_steps=7", "seed=3"])
    assert cfg.learning_rate == 1e-4 and cfg.packing is True and cfg.max_steps == 7 and cfg.seed == 3
    assert parse_overrides(["trackers=[tensorboard]"]) == {"trackers": ["tensorboard"]}
    with pytest.raises(ValueError, match="unknown config field"):
        load_config("alpaca-7b", ["learning_rat=1e-4"])
    with pytest.raises(ValueError, match="key=value"):
        load_config("alpaca-7b", ["epochs"])
    with pytest.raises(ValueError, match="loss_averaging"):
        load_config("alpaca-7b", ["loss_averaging=sum"])
    with pytest.raises(ValueError, match="not divisible"):
        load_config("alpaca-7b", ["per_device_batch_size=3"]).accumulation_for(8)
    with pytest.raises(ValueError, match="unknown FullyShardedDataParallelPlugin"):
        check_fsdp_fields({"sharding": "full"})


def _plan(records_file, tiny_model, *extra):
    result = CliRunner().invoke(cli, ["finetune", "plan", "--recipe", "alpaca-7b", "--dataset",
                                      str(records_file), "--model", str(tiny_model), "--json",
                                      "global_batch_size=32", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_plan_counts_steps_padding_memory_and_time(records_file, tiny_model):
    p = _plan(records_file, tiny_model)
    assert p["train_examples"] == 300 and p["gpus"] == 8
    assert p["total_steps"] == math.ceil(p["steps_per_epoch"] * p["epochs"]) == 30
    by = p["padded_share_by_batching"]
    assert by["random"] == pytest.approx(p["padded_share"]) and by["packed"] < by["random"]
    assert p["slots_per_epoch"] > p["real_tokens_per_epoch"]
    assert p["model_flops"] == pytest.approx(p["flops_per_token"] * p["real_tokens_per_epoch"] * 3)
    slow = _plan(records_file, tiny_model, "--mfu", "0.2")  # options after overrides are fine too
    assert slow["hours_at_mfu"] == pytest.approx(2 * p["hours_at_mfu"])
    one = _plan(records_file, tiny_model, "--gpus", "1")
    assert one["memory_gb_per_gpu"]["optimizer"] == pytest.approx(8 * p["memory_gb_per_gpu"]["optimizer"])
    text = CliRunner().invoke(cli, ["finetune", "plan", "--recipe", "alpaca-7b", "--dataset",
                                    str(records_file), "--model", str(tiny_model)]).output
    assert "MFU" in text  # the stated MFU's time; Alpaca's run is not compared with work this small
    assert "Alpaca's 2023 run" not in text and "0.0% MFU" not in text


def test_alpacas_run_is_compared_only_with_work_of_its_scale(records_file, tiny_model):
    from finetune.plan import format_plan

    p = _plan(records_file, tiny_model)
    assert p["alpaca_reference"]["implied_mfu"] < 0.01  # a tiny model on 300 records
    p["alpaca_reference"]["implied_mfu"] = 0.31  # as a 7B model on Alpaca's 52K gives
    assert "Alpaca's 2023 run" in format_plan(p) and "31.0% MFU" in format_plan(p)


def test_plan_rejects_unknown_gpu(records_file, tiny_model):
    result = CliRunner().invoke(cli, ["finetune", "plan", "--dataset", str(records_file),
                                      "--model", str(tiny_model), "--gpu", "tpu"])
    assert result.exit_code == 2 and "unknown gpu" in result.output


def test_plan_for_this_machines_cpu(records_file, tiny_model):
    import os

    p = _plan(records_file, tiny_model, "--gpu", "cpu")
    cores = len(os.sched_getaffinity(0))
    assert p["gpu"] == "cpu" and p["gpus"] == 1 and p["peak_tflops_per_gpu"] == pytest.approx(0.08 * cores)
    assert p["gpu_memory_gb"] > 0 and p["fits"] and p["hours_at_mfu"] > 0
