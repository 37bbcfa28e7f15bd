"""`selfinstruct finetune ...` commands (torch is imported inside command bodies)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from records.exits import CommandGroup
from records.schema import RECORD_FIELDS


@click.group(cls=CommandGroup)
def finetune() -> None:
    """Fine-tune a causal LM on a registered dataset version.

    Example: selfinstruct finetune run --dataset mine@1 --model ./my-base-model --recipe llama-1b
    """


def _common(f):
    f = click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")(f)
    f = click.option("--registry", help="Registry root (default: $SELFINSTRUCT_REGISTRY).")(f)
    f = click.option("--template", default=None,
                     help="Prompt template: alpaca, chat (the model's own chat template), or a YAML file "
                          "(default: the recipe's, else alpaca).")(f)
    f = click.option("--recipe", default="alpaca-7b", show_default=True,
                     help="Bundled recipe name or a YAML file.")(f)
    f = click.option("--model", required=True,
                     help="Local path of a transformers causal LM, or `smollm2` for the built-in "
                          "SmolLM2-135M-Instruct (the install's `local` component).")(f)
    f = click.option("--dataset", required=True,
                     help="NAME@V in the registry, or a JSON/JSONL/Parquet file.")(f)
    return f


def _config(recipe, overrides, **fields):
    from finetune.config import load_config

    if fields.get("model") == "smollm2" and not Path("smollm2").exists():
        from selfinstruct.local_model import ensure_local_model

        fields["model"] = str(ensure_local_model())  # a ConfigError when the component is not installed
    return load_config(recipe, list(overrides), **fields)


def _recipes_and_keys() -> str:
    """The bundled recipes and every KEY a KEY=VALUE pair may set, for `finetune run --help`."""
    import dataclasses
    from importlib import resources

    from finetune.config import FinetuneConfig

    recipes = sorted(p.name[:-5] for p in (resources.files("finetune") / "recipes").iterdir()
                     if p.name.endswith(".yaml") and not p.name.endswith(".accelerate.yaml"))
    fixed = {"dataset", "model", "output", "registry", "recipe", "template"}  # options of their own
    keys = [f.name for f in dataclasses.fields(FinetuneConfig) if f.name not in fixed]
    lines, line = [], ""
    for key in keys:
        if len(line) + len(key) + 2 > 76:
            lines.append(line.rstrip())
            line = ""
        line += key + ", "
    lines.append(line.rstrip(", "))
    return ("\b\nRecipes (--recipe, or a YAML file): " + ", ".join(recipes)
            + "\n\n\b\nKEY=VALUE keys (docs/finetune.md describes each):\n  " + "\n  ".join(lines))


@finetune.command("run", epilog=_recipes_and_keys())
@_common
@click.option("-o", "--output", help="Output directory (default: runs/finetune).")
@click.option("--overwrite", is_flag=True,
              help="Replace a finished model already in the output directory.")
def run_command(dataset, model, recipe, template, registry, overrides, output, overwrite):
    """Fine-tune MODEL on DATASET with a recipe; KEY=VALUE pairs override recipe fields.

    \b
        selfinstruct finetune run --dataset alpaca@1 --model ./llama-7b \\
            --recipe alpaca-7b --output runs/alpaca-7b epochs=1 packing=true
        selfinstruct finetune run --dataset chats@1 --model smollm2 --template chat
        accelerate launch --config_file finetune/recipes/alpaca-7b.accelerate.yaml \\
            -m finetune run --dataset alpaca@1 --model ./llama-7b --recipe alpaca-7b
    """
    from finetune.train import train

    config = _config(recipe, overrides, dataset=dataset, model=model, registry=registry,
                     output=output, template=template)
    out = train(config, overwrite=overwrite)
    click.echo(f"model, tokenizer, model card and metrics written to {out}")


@finetune.command("plan")
@_common
@click.option("--gpu", default="a100-80gb", show_default=True,
              help="a100-40gb, a100-80gb, h100, h100-pcie, h200, or cpu (this machine: its RAM, an assumed "
                   "0.08 TFLOP/s per core).")
@click.option("--gpus", default=8, show_default="8; 1 with --gpu cpu", type=int)
@click.option("--mfu", default=0.40, show_default=True, type=float,
              help="Model-FLOPs utilisation assumed for the time estimate.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan_command(dataset, model, recipe, template, registry, overrides, gpu, gpus, mfu, as_json):
    """Estimate tokens, padding, steps, FLOPs, memory and time of a run, without training.

    \b
        selfinstruct finetune plan --recipe alpaca-7b --dataset alpaca@1 \\
            --model ./llama-7b --gpu a100-80gb --gpus 8
        selfinstruct finetune plan --recipe tiny-cpu --dataset mine@1 --model runs/tiny-llama --gpu cpu
    """
    from click.core import ParameterSource

    from finetune.plan import format_plan, plan

    if gpu == "cpu" and click.get_current_context().get_parameter_source("gpus") == ParameterSource.DEFAULT:
        gpus = 1

    config = _config(recipe, overrides, dataset=dataset, model=model, registry=registry, template=template)
    result = plan(config, gpu=gpu, gpus=gpus, mfu=mfu)
    click.echo(json.dumps(result, indent=2) if as_json else format_plan(result))


@finetune.command("tiny-model")
@click.argument("output", type=click.Path(file_okay=False))
@click.option("--dataset", required=True, help="NAME@V or a JSON/JSONL/Parquet file: the tokenizer learns its text.")
@click.option("--registry", help="Registry root (default: $SELFINSTRUCT_REGISTRY).")
@click.option("--vocab-size", default=2000, show_default=True, type=int)
@click.option("--hidden", default=64, show_default=True, type=int)
@click.option("--layers", default=2, show_default=True, type=int)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--chat", is_flag=True, help="Give the tokenizer a ChatML chat template, to try --template chat.")
def tiny_model_command(output, dataset, registry, vocab_size, hidden, layers, seed, chat):
    """Build a small random Llama and a BPE tokenizer trained on DATASET, to try the loop on a CPU.

    \b
        selfinstruct finetune tiny-model runs/tiny-llama --dataset mine@1
        selfinstruct finetune run --dataset mine@1 --model runs/tiny-llama --recipe tiny-cpu
    """
    from finetune.dataset import load_records
    from records.files import check_writable

    check_writable(output, folder=True)
    records, _ = load_records(dataset, registry)
    import torch

    from finetune.tiny import save_tiny_model

    texts = [" ".join(str(r.get(k) or "") for k in RECORD_FIELDS) for r in records]
    torch.manual_seed(seed)
    save_tiny_model(Path(output), texts, vocab_size=vocab_size, hidden=hidden, layers=layers, chat=chat)
    kind = "a chat" if chat else "a"
    click.echo(f"random {layers}-layer Llama (hidden {hidden}) and {kind} {vocab_size}-token tokenizer in {output}")
