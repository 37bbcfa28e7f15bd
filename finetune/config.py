"""FinetuneConfig: the recipe schema, recipe files and `key=value` overrides.

Precedence is dataclass defaults < recipe file < command-line overrides. The resolved config
is written next to the trained model (`finetune_config.yaml`).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from finetune.schedule import SCHEDULES
from records.files import read_text_utf8, write_text_atomic

LOSS_AVERAGING = ("micro_batch", "token")
BATCHING = ("random", "grouped")
PACK_UNITS = ("examples", "rows")
PRECISIONS = ("auto", "bf16", "fp32")


@dataclass
class FinetuneConfig:
    """One fine-tuning run. Defaults are Stanford Alpaca's LLaMA-7B recipe."""

    dataset: str = ""
    """Registry reference `NAME@V`, or a path to a JSON/JSONL/Parquet file of records."""
    model: str = ""
    """Local path of a transformers causal LM (never downloaded)."""
    output: str = "runs/finetune"
    """Output directory: model, tokenizer, model card, metrics, checkpoints."""
    registry: str | None = None
    """Registry root; None reads $SELFINSTRUCT_REGISTRY, then the registry's own default."""
    recipe: str = "defaults"
    """Name or path of the recipe this config came from (recorded in the model card)."""

    template: str = "alpaca"
    """Prompt template: a name in finetune/templates/, a path to a YAML file, or `chat`: the base
    tokenizer's own chat template, with the loss on the assistant's reply and its end token only."""
    train_on_prompt: bool = False
    """False: labels are -100 on prompt tokens, loss on response + EOS (Alpaca)."""
    max_length: int = 512
    """Tokens per example after truncation (Alpaca: 512)."""

    epochs: float = 3.0
    max_steps: int | None = None
    """Total optimizer steps, as in transformers: when set it replaces `epochs` (data repeats
    as needed) and the learning-rate schedule spans exactly these steps."""
    learning_rate: float = 2e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    max_grad_norm: float = 1.0
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"
    """cosine | linear | constant (all with linear warmup)."""
    global_batch_size: int = 128
    """Examples per optimizer step (rows when packing with pack_unit=rows)."""
    per_device_batch_size: int = 4
    """Examples (or packed rows) per micro-batch on one process."""
    gradient_accumulation_steps: int | None = None
    """None: derived as global_batch_size / (per_device_batch_size x processes)."""
    loss_averaging: str = "micro_batch"
    """micro_batch: mean of per-micro-batch token means (transformers 4.28, Alpaca's run);
    token: one mean over every target token of the global batch (transformers >= 4.46)."""

    batching: str = "random"
    """random: shuffled batches padded to the longest (Alpaca); grouped: length-grouped."""
    group_size: int = 50
    """grouped: sort within windows of this many global batches (as HF group_by_length)."""
    packing: bool = False
    """Pack several examples per row; they never attend to each other."""
    pack_length: int | None = None
    """Tokens per packed row; None means max_length."""
    pack_unit: str = "examples"
    """examples: a step still takes global_batch_size examples (Alpaca's step count);
    rows: a step takes global_batch_size packed rows."""

    precision: str = "auto"
    """auto: bf16 where the GPU supports it, fp32 elsewhere; tf32 matmuls on Ampere+."""
    gradient_checkpointing: bool = False
    attn_implementation: str | None = None
    """e.g. sdpa, flash_attention_2; None lets transformers choose."""
    fsdp: dict[str, Any] = field(default_factory=dict)
    """FSDP plugin fields, used only on multi-GPU runs (see recipes/alpaca-7b.yaml)."""
    lora: dict[str, Any] = field(default_factory=dict)
    """peft LoraConfig fields (r, lora_alpha, lora_dropout, target_modules); empty = full."""

    seed: int = 42
    eval_fraction: float = 0.0
    """Share of records held out for the evaluation loss (0 disables)."""
    eval_every: int = 0
    """Evaluate every N steps (0: only at the end)."""
    log_every: int = 1
    save_every: int = 0
    """Checkpoint every N steps (0: never)."""
    keep_checkpoints: int = 2
    """Checkpoints kept (the newest); more than one lets resume fall back past a damaged one."""
    resume_from: str | None = None
    """A checkpoint directory, or `auto` for the newest one under output/checkpoints."""
    trackers: list[str] = field(default_factory=list)
    """accelerate trackers, e.g. [tensorboard] or [wandb]."""
    peak_tflops: float | None = None
    """Device peak for MFU; None looks the GPU up in finetune.flops.PEAK_TFLOPS."""
    progress_bar: bool = True

    def __post_init__(self) -> None:
        _check_choice("loss_averaging", self.loss_averaging, LOSS_AVERAGING)
        _check_choice("batching", self.batching, BATCHING)
        _check_choice("pack_unit", self.pack_unit, PACK_UNITS)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("scheduler", self.scheduler, SCHEDULES)
        for name in ("max_length", "global_batch_size", "per_device_batch_size", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 (or unset to train for `epochs`), "
                             f"got {self.max_steps}")
        if self.epochs <= 0:
            raise ValueError(f"epochs must be > 0, got {self.epochs}")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise ValueError(f"eval_fraction must be in [0, 1), got {self.eval_fraction}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")

    @property
    def row_length(self) -> int:
        """Tokens per packed row."""
        return self.pack_length or self.max_length

    def accumulation_for(self, processes: int) -> int:
        """Micro-batches per optimizer step on each process."""
        if self.gradient_accumulation_steps is not None:
            return self.gradient_accumulation_steps
        per_step = self.per_device_batch_size * processes
        if self.global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not divisible by "
                f"per_device_batch_size {self.per_device_batch_size} x {processes} processes"
            )
        return self.global_batch_size // per_step

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def recipe_path(recipe: str) -> Path:
    """A recipe name (`alpaca-7b`) from finetune/recipes/, or a path to a YAML file."""
    path = Path(recipe)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    bundled = resources.files("finetune") / "recipes" / f"{recipe}.yaml"
    if bundled.is_file():
        return Path(str(bundled))
    names = sorted(p.name[:-5] for p in (resources.files("finetune") / "recipes").iterdir()
                   if p.name.endswith(".yaml") and not p.name.endswith(".accelerate.yaml"))
    raise ValueError(f"unknown recipe {recipe!r}; bundled recipes: {', '.join(names)}")


def load_config(recipe: str | None = None, overrides: list[str] | dict | None = None,
                **fields: Any) -> FinetuneConfig:
    """Defaults < recipe file < `fields` (dataset, model, ...) < `key=value` overrides."""
    values: dict[str, Any] = {}
    if recipe:
        path = recipe_path(recipe)
        loaded = yaml.safe_load(read_text_utf8(path, what="recipe file")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a recipe must be a mapping of config fields")
        _check_keys(loaded, str(path))
        values.update(loaded)
        values["recipe"] = recipe
    values.update({k: v for k, v in fields.items() if v is not None})
    parsed = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
    _check_keys(parsed, "override")
    values.update(parsed)
    return FinetuneConfig(**{k: coerce(k, v) for k, v in values.items()})


def coerce(name: str, value: Any) -> Any:
    """Numbers YAML 1.1 leaves as strings (`2e-5`) become the field's type."""
    kind = {f.name: str(f.type) for f in dataclasses.fields(FinetuneConfig)}[name]
    if isinstance(value, str) and value.lower() in ("none", "null", "~") and "None" in kind:
        return None
    try:
        if kind.startswith("float") and isinstance(value, (str, int)):
            return float(value)
        if kind.startswith("int") and isinstance(value, str):
            return int(value)
    except ValueError:
        raise ValueError(f"{name}: expected {kind}, got {value!r}") from None
    return value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["epochs=1", "packing=true"]` -> {"epochs": 1, "packing": True} (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value")
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
    return out


def _check_keys(values: dict[str, Any], where: str) -> None:
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        hints = [f"{key} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(key, known, n=1)) else key
                 for key in unknown]
        raise ValueError(f"{where}: unknown config field(s) {', '.join(hints)}")


def save_config(config: FinetuneConfig, path: Path) -> None:
    write_text_atomic(path, yaml.safe_dump(config.to_dict(), sort_keys=False))
