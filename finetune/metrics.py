"""Metrics: one JSON line per logging step, a progress bar, and accelerate's trackers."""

from __future__ import annotations

import json
import time
from pathlib import Path

from records.files import write_text_atomic


class MetricsLog:
    """Accumulates step figures between log lines; only the main process writes."""

    def __init__(self, accelerator, path: Path, total_steps: int, start_step: int,
                 flops_per_real_token: float, peak_tflops: float | None, progress: bool):
        self.acc = accelerator
        self.path = path
        self.flops_per_token = flops_per_real_token
        self.peak = peak_tflops
        self.window = {"real": 0, "slots": 0, "steps": 0, "start": time.perf_counter()}
        self.totals = {"real": 0, "slots": 0}
        self.bar = None
        if accelerator.is_main_process:
            keep_steps_through(path, start_step)
        if progress and accelerator.is_main_process:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, desc="finetune", unit="step")

    def add_step(self, figures: dict) -> None:
        for key, src in (("real", "real_tokens"), ("slots", "slots")):
            self.window[key] += figures[src]
            self.totals[key] += figures[src]
        self.window["steps"] += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{figures['loss']:.4f}")

    def write(self, record: dict) -> dict:
        """Add throughput, MFU and memory to `record`, write it, and reset the window."""
        import torch

        elapsed = max(time.perf_counter() - self.window["start"], 1e-9)
        gpus = self.acc.num_processes
        record["seconds"] = elapsed
        record["real_tokens"] = self.window["real"]
        record["slots"] = self.window["slots"]
        record["tokens_per_s"] = self.window["slots"] / elapsed
        record["real_tokens_per_s"] = self.window["real"] / elapsed
        record["real_tokens_per_s_per_device"] = record["real_tokens_per_s"] / gpus
        record["padded_share"] = 1 - self.window["real"] / max(self.window["slots"], 1)
        achieved = record["real_tokens_per_s_per_device"] * self.flops_per_token
        record["tflops_per_device"] = achieved / 1e12
        record["mfu"] = achieved / (self.peak * 1e12) if self.peak else None
        if torch.cuda.is_available():
            record["memory_gb"] = torch.cuda.max_memory_allocated() / 1024**3
        else:
            import resource

            record["memory_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        self.window = {"real": 0, "slots": 0, "steps": 0, "start": time.perf_counter()}
        self.append(record)
        return record

    def append(self, record: dict) -> None:
        if self.acc.is_main_process:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")
        self.acc.log({k: v for k, v in record.items() if isinstance(v, (int, float))},
                     step=record.get("step"))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def keep_steps_through(path: Path, step: int) -> None:
    """Drop the lines a resumed run will write again (those after `step`, all of them for a fresh
    start), so each step is logged once."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line torn by a kill
        if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] <= step:
            kept.append(line if line.endswith("\n") else line + "\n")
    if kept != lines:
        write_text_atomic(path, "".join(kept))


class Laps:
    """Wall seconds per phase of a run: `lap(name)` adds the time since the previous lap to
    `name`, so phases that recur every step (collate, step, logging) add up over the run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.last
        self.last = now

    def record(self) -> dict:
        """The metrics.jsonl line that ends a run: {"phase_seconds": {phase: seconds}}."""
        return {"phase_seconds": {k: round(v, 4) for k, v in self.seconds.items()}}
