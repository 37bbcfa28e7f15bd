"""train(config) -> Path: one explicit accelerate loop, top to bottom.

    data -> accelerator -> model -> optimizer + schedule -> prepare -> (resume) -> steps
    (log, evaluate, checkpoint) -> export + model card -> registry "used by" entry

The last line of metrics.jsonl gives the run's wall seconds per phase (`phase_seconds`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from finetune.batching import padding_stats, plan_epoch, total_steps
from finetune.checkpoint import checkpoint_dir, find_checkpoint, load_checkpoint, save_checkpoint
from finetune.config import FinetuneConfig, save_config
from finetune.export import export_model, render_model_card
from finetune.metrics import Laps, MetricsLog
from finetune.prepare import prepare_data
from finetune.schedule import build_scheduler
from finetune.step import collate_step, evaluate, train_step
from finetune.templates import TEMPLATE_FILE, save_template
from finetune.training_record import TRAINING_RECORD, TrainingRecord, write_training_record
from records.exits import Interrupted
from records.files import write_text_atomic
from records.timestamps import iso_utc


def train(config: FinetuneConfig, overwrite: bool = False) -> Path:
    """Fine-tune `config.model` on `config.dataset`; return the output directory.

    An output folder that already holds an exported model is refused unless `overwrite`
    (or `resume_from` continues a run in it)."""
    laps = Laps()
    import torch
    from accelerate.utils import set_seed

    from finetune.flops import detect_device, flops_per_token, shape_of
    from finetune.model import load_model, selects_logits

    laps.lap("imports")
    started = iso_utc()
    data = prepare_data(config)  # every input error surfaces here, before any model loads
    laps.lap("data")
    accelerator, precision = build_accelerator(config)
    output = Path(config.output)
    check_output(output, overwrite or bool(config.resume_from))
    output.mkdir(parents=True, exist_ok=True)
    set_seed(config.seed)

    model = load_model(config, data.tokenizer)
    model = accelerator.prepare(model)  # wrap first: FSDP needs the optimizer on the shards
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay,
                                  betas=(config.adam_beta1, config.adam_beta2), eps=config.adam_eps)
    lengths = [len(e) for e in data.train]
    procs = accelerator.num_processes
    plans = {0: plan_epoch(lengths, config, procs, 0)}
    steps_per_epoch = len(plans[0])
    total = config.max_steps or total_steps(steps_per_epoch, config.epochs)
    warmup = math.ceil(config.warmup_ratio * total)
    scheduler = build_scheduler(config.scheduler, optimizer, warmup, total)
    optimizer, scheduler = accelerator.prepare(optimizer, scheduler)

    step, run_id = 0, None
    if config.resume_from:
        saved = load_checkpoint(accelerator, find_checkpoint(output, config.resume_from))
        step, run_id = saved["step"], saved.get("run_id")
    use = start_use(config, data.source, output, started, run_id) if accelerator.is_main_process else None
    try:
        run_id = use["entry"].run_id if use else run_id
        device, peak = detect_device()
        shape = shape_of(accelerator.unwrap_model(model).config)
        context = sum(n * n for n in lengths) / sum(lengths)  # token-weighted mean example length
        log = MetricsLog(accelerator, output / "metrics.jsonl", total, step,
                         flops_per_token(shape, context), config.peak_tflops or peak,
                         config.progress_bar)
        if accelerator.is_main_process:
            save_config(config, output / "finetune_config.yaml")
            save_template(data.template, output / TEMPLATE_FILE)  # what eval answer and chat prompt with
            if config.trackers:
                accelerator.init_trackers(output.name, config=_flat(config.to_dict()))
        pad_id = data.tokenizer.pad_token_id
        select = selects_logits(accelerator.unwrap_model(model))
        model.train()
        laps.lap("model")
        loss = eval_loss = None
        epoch_padding: dict[int, float] = {}
        updating = False  # True while the optimizer changes the weights: no consistent state to save
        try:
            while step < total:
                epoch, k = divmod(step, steps_per_epoch)
                if epoch not in plans:
                    plans = {epoch: plan_epoch(lengths, config, procs, epoch)}
                if epoch not in epoch_padding:
                    epoch_padding[epoch] = padding_stats(plans[epoch], lengths)["padded_share"]
                batches = collate_step(plans[epoch][k][accelerator.process_index], data.train, pad_id,
                                       config.packing)
                laps.lap("collate")
                figures = train_step(accelerator, model, batches, config.loss_averaging, select)
                laps.lap("forward_backward")
                grad_norm = accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                updating = True
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                updating = False
                laps.lap("optimizer")
                loss = figures["loss"]
                log.add_step(figures)
                if step % config.log_every == 0 or step == total:
                    log.write({"step": step, "epoch": step / steps_per_epoch, "loss": loss,
                               "learning_rate": scheduler.get_last_lr()[0],
                               "grad_norm": float(grad_norm), "epoch_padded_share": epoch_padding[epoch]})
                laps.lap("logging")  # the progress bar and the metrics line
                if config.eval_every and step % config.eval_every == 0 and step < total and data.eval:
                    eval_loss = evaluate(accelerator, model, data.eval, config.per_device_batch_size,
                                         pad_id, select)
                    log.append({"step": step, "eval_loss": eval_loss})
                    laps.lap("evaluation")
                if (config.save_every and step % config.save_every == 0):
                    save_checkpoint(accelerator, output, step, {"total_steps": total, "run_id": run_id},
                                    keep=config.keep_checkpoints)
                    laps.lap("checkpointing")
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI turns it into one)
            raise Interrupted(save_on_interrupt(accelerator, output, step, total, config, run_id,
                                                consistent=not updating)) from None
        log.close()
        if data.eval:
            eval_loss = evaluate(accelerator, model, data.eval, config.per_device_batch_size, pad_id, select)
            log.append({"step": step, "eval_loss": eval_loss})
            laps.lap("evaluation")

        export_model(accelerator, model, data.tokenizer, output, lora=bool(config.lora))
        laps.lap("export")
        run = {
            "dataset": data.source.ref, "content_hash": data.source.content_hash,
            "from_registry": data.source.from_registry, "steps": step, "final_loss": loss,
            "eval_loss": eval_loss, "accumulation": len(plans[min(plans)][0][0]), "processes": procs,
            "precision": precision, "train_examples": len(data.train), "eval_examples": len(data.eval),
            "padded_share": sum(epoch_padding.values()) / max(len(epoch_padding), 1),
            "device": device, "started": started, "finished": iso_utc(),
        }
        if accelerator.is_main_process:
            write_text_atomic(output / "README.md", render_model_card(config, run))
            write_training_record(training_record(config, run), output)
            if use is not None:
                finish_use(use, run, config)
            laps.lap("model_card")
            log.append(laps.record())
    except BaseException as exc:  # the version's log must not say a dead run is still running
        if use is not None:
            end_use(use, exc)
        raise
    # Tear the process group down together: a rank that leaves while another still writes
    # the model card can leave that one waiting in gloo's shutdown.
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return output


def save_on_interrupt(accelerator, output: Path, step: int, total: int, config: FinetuneConfig, run_id,
                      *, consistent: bool) -> str:
    """Save a checkpoint of the steps done when a run is interrupted (unless the weights were being
    changed then); returns what was saved and how a rerun goes on, for the interrupt's message."""
    path = checkpoint_dir(output, step)
    if step and consistent and not path.exists():
        path = save_checkpoint(accelerator, output, step, {"total_steps": total, "run_id": run_id},
                               keep=config.keep_checkpoints)
    saved = sorted((output / "checkpoints").glob("step-*"))
    if not saved:
        return f"at step {step} of {total}, nothing saved; the same command starts again from step 0"
    where = "saved" if saved[-1] == path else "the newest checkpoint is"
    return (f"at step {step} of {total}, {where} {saved[-1]}; the same command starts again from step 0, "
            "add resume_from=auto to continue from it")


def training_record(config: FinetuneConfig, run: dict) -> TrainingRecord:
    return TrainingRecord(dataset=run["dataset"], content_hash=run["content_hash"], from_registry=run["from_registry"],
                          base_model=config.model, recipe=config.recipe, template=config.template,
                          steps=run["steps"], final_loss=run["final_loss"], started=run["started"],
                          finished=run["finished"])


def check_output(output: Path, overwrite: bool) -> None:
    """Refuse an output folder that cannot be written, or one holding a finished model (its
    weights or model card) unless asked to replace it."""
    from records.errors import InputError
    from records.files import check_writable

    try:
        check_writable(output, folder=True)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    finished = [p.name for p in (output / "model.safetensors", output / "adapter_model.safetensors",
                                 output / "model.safetensors.index.json", output / "README.md",
                                 output / TRAINING_RECORD)
                if p.exists()]
    if finished and not overwrite:
        raise ValueError(f"{output}: already holds a finished model ({', '.join(finished)}); "
                         f"pass --overwrite to replace it or choose another --output")


def build_accelerator(config: FinetuneConfig):
    """Accelerator with bf16 where the GPU has it, tf32 on Ampere+, FSDP on multi-GPU runs."""
    import torch
    from accelerate import Accelerator

    cuda = torch.cuda.is_available()
    if config.precision == "auto":
        precision = "bf16" if cuda and torch.cuda.is_bf16_supported() else "no"
    else:
        precision = "bf16" if config.precision == "bf16" else "no"
    if cuda and torch.cuda.get_device_capability()[0] >= 8:
        torch.backends.cuda.matmul.allow_tf32 = True  # Alpaca's --tf32 True
        torch.backends.cudnn.allow_tf32 = True
    kwargs = {}
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if config.fsdp and cuda and world > 1:
        from accelerate import FullyShardedDataParallelPlugin

        kwargs["fsdp_plugin"] = FullyShardedDataParallelPlugin(**config.fsdp)
    accelerator = Accelerator(cpu=not cuda, mixed_precision=precision,
                              step_scheduler_with_optimizer=False,
                              log_with=config.trackers or None,
                              project_dir=config.output, **kwargs)
    if accelerator.num_processes != world:
        raise RuntimeError(f"launched with WORLD_SIZE={world} but accelerate sees "
                           f"{accelerator.num_processes} process(es)")
    return accelerator, "bf16" if precision == "bf16" else "fp32"


def start_use(config: FinetuneConfig, source, output: Path, started: str, run_id: str | None) -> dict | None:
    """Record in the registry, before training, that this run uses the dataset version (status
    running; a resumed run keeps its checkpoint's run_id, so it stays one use); returns what
    finish_use needs. None for a dataset read from a file."""
    if not source.from_registry:
        return None
    import uuid

    import registry

    from finetune.dataset import registry_root

    root = registry_root(config.registry)
    try:
        version = registry.resolve(source.ref, root=root)
        entry = registry.Use(kind="finetune", run_id=run_id or uuid.uuid4().hex, status="running", seq=0,
                             output=str(output.resolve()), model=config.model, recipe=config.recipe, started=started)
        registry.record_use(version, entry, root=root)
    except registry.RegistryError as exc:
        raise ValueError(f"{source.ref}: cannot record this run's use ({exc})") from None
    return {"version": version, "root": root, "entry": entry}


def finish_use(use: dict, run: dict, config: FinetuneConfig) -> None:
    """Mark the use recorded at the start finished, with its steps and loss. The version may have
    been retired meanwhile: the entry still lands; a registry failure now only warns, since the
    model is already exported."""
    import registry

    entry = use["entry"].updated(status="finished", seq=1, finished=run["finished"], steps=run["steps"],
                                 final_loss=run["final_loss"])
    try:
        registry.record_use(use["version"], entry, root=use["root"])
    except Exception as exc:  # noqa: BLE001 - the model is exported; losing the end mark must not fail the run
        import logging

        logging.getLogger(__name__).warning("the model is exported, but marking its use of %s finished failed: %s",
                                            use["version"].ref, exc)


def end_use(use: dict, exc: BaseException) -> None:
    """Mark the use recorded at the start failed (or interrupted), with the error's first line; a
    registry failure here only warns, so the run's own error is the one the user sees."""
    import registry

    status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
    entry = use["entry"].updated(status=status, seq=1, ended=iso_utc(), error=reason)
    try:
        registry.record_use(use["version"], entry, root=use["root"])
    except Exception as err:  # noqa: BLE001 - must not hide the run's own error
        import logging

        logging.getLogger(__name__).warning("marking the use of %s %s failed: %s", use["version"].ref, status, err)


def _flat(d: dict) -> dict:
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in d.items()}
