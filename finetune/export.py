"""Final export in Hugging Face format (safetensors, tokenizer, generation config) + model card."""

from __future__ import annotations

from pathlib import Path

from finetune.config import FinetuneConfig
from finetune.templates import CHAT
from registry.escape import md_code, md_table, md_text, yaml_block


def export_model(accelerator, model, tokenizer, output: Path, lora: bool) -> None:
    """Gather the full state dict (FSDP-aware) and save it from the main process."""
    unwrapped = accelerator.unwrap_model(model)
    if lora:
        unwrapped = unwrapped.merge_and_unload()  # a plain causal LM loads without peft
        state = {k: v.detach().cpu() for k, v in unwrapped.state_dict().items()}
    else:
        state = accelerator.get_state_dict(model)
    unwrapped.config.pad_token_id = tokenizer.pad_token_id
    unwrapped.config.eos_token_id = tokenizer.eos_token_id
    gen = unwrapped.generation_config
    gen.pad_token_id, gen.eos_token_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    if tokenizer.bos_token_id is not None:
        gen.bos_token_id = tokenizer.bos_token_id
    unwrapped.save_pretrained(output, is_main_process=accelerator.is_main_process,
                              save_function=accelerator.save, state_dict=state,
                              safe_serialization=True)
    if accelerator.is_main_process:
        tokenizer.save_pretrained(output)
        gen.save_pretrained(output)


def render_model_card(config: FinetuneConfig, run: dict) -> str:
    """README.md with YAML metadata naming the training data as name@version + content hash."""
    meta = {
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["selfinstruct", "instruction-tuning", f"recipe:{Path(config.recipe).stem}"],
        "base_model": config.model,
        "datasets": [run["dataset"]],
        "training_data": {"dataset": run["dataset"], "content_hash": run["content_hash"],
                          "from_registry": run["from_registry"]},
    }
    rows = [
        ("recipe", config.recipe), ("prompt template", config.template),
        ("loss on prompt", config.train_on_prompt), ("max length", config.max_length),
        ("epochs", config.epochs), ("optimizer steps", run["steps"]),
        ("learning rate", config.learning_rate), ("schedule", f"{config.scheduler}, warmup ratio {config.warmup_ratio}"),
        ("weight decay", config.weight_decay), ("global batch", config.global_batch_size),
        ("per-device batch x accumulation x processes",
         f"{config.per_device_batch_size} x {run['accumulation']} x {run['processes']}"),
        ("loss averaging", config.loss_averaging),
        ("batching", "packed (" + config.pack_unit + ")" if config.packing else config.batching),
        ("precision", run["precision"]), ("seed", config.seed),
        ("training examples", run["train_examples"]), ("held-out examples", run["eval_examples"]),
        ("final training loss", _fmt(run["final_loss"])), ("evaluation loss", _fmt(run["eval_loss"])),
        ("padded share of token slots", _fmt(run["padded_share"])), ("device", run["device"]),
        ("started", run["started"]), ("finished", run["finished"]),
    ]
    # Paths, model names and dataset names come from the user: escaped by the cards' shared helpers.
    table = md_table(["setting", "value"], [(k, v) for k, v in rows])
    name = Path(config.output).name
    return (
        f"---\n{yaml_block(meta)}---\n\n"
        f"# {md_text(name)}\n\n"
        f"{md_code(config.model)} fine-tuned on {md_code(run['dataset'])} (content hash {md_code(run['content_hash'])}) "
        f"with `selfinstruct finetune run`. The resolved configuration is in "
        f"`finetune_config.yaml`; per-step metrics are in `metrics.jsonl`.\n\n"
        f"{table}\n"
        f"## Prompt format\n\n{prompt_format_note(config)}\n"
    )


def prompt_format_note(config: FinetuneConfig) -> str:
    """How the model is prompted, for the card: its own chat template, or an Alpaca-style template."""
    if config.template == CHAT:
        loss = "every token" if config.train_on_prompt else "the reply and its end token only"
        return ("Prompts use the base model's own chat template (saved with the tokenizer and in "
                "`prompt_template.yaml`): each record is a user turn (the instruction, then the input after "
                f"a line `Input:`) and the reply is the assistant turn; the loss was on {loss}.")
    return (f"Prompts use the {md_code(config.template)} template (one form for records with an input, one without); "
            "the response is generated right after the rendered prompt.")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
