"""Load seed tasks (Self-Instruct's seed format or Alpaca records) and sample in-context examples."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from records.errors import InputError
from records.files import check_text, read_json_objects, read_text_utf8, validate_record


@dataclass(frozen=True)
class SeedTask:
    """One human-written task; `instances` holds (input, output) pairs, the first is shown in prompts."""

    id: str
    instruction: str
    instances: tuple[tuple[str, str], ...]
    name: str = ""
    is_classification: bool = False

    @property
    def example(self) -> dict:
        inp, out = self.instances[0]
        return {"instruction": self.instruction, "input": inp, "output": out}


@dataclass(frozen=True)
class SeedSet:
    """The tasks plus what lineage needs: where they came from and a hash of the file."""

    tasks: list[SeedTask]
    path: str
    sha256: str
    name: str = field(default="")
    licence: str | None = None
    """Known for the shipped seeds (Apache-2.0); None for a user's file, whose terms we cannot know."""


def default_seeds_path() -> Path:
    """seeds/default.jsonl, shipped with the package."""
    return Path(str(resources.files("seeds").joinpath("default.jsonl")))


def load_seeds(path: str | Path | None = None) -> SeedSet:
    """Read seed tasks; refuse a malformed file naming file, line and field (nothing is generated).

    Accepts Self-Instruct's seed format (`id`, `name`, `instruction`, `instances`,
    `is_classification`) and Alpaca records (`instruction`, `input`, `output`; JSON list or JSONL).
    """
    path = Path(path) if path is not None else default_seeds_path()
    if not path.exists():
        raise InputError(path, "no such seed file")
    tasks: list[SeedTask] = []
    seen: dict[str, int] = {}
    for lineno, obj in read_json_objects(path):
        task = _seed_from_object(obj, path, lineno, default_id=f"seed_{len(tasks)}")
        if task.id in seen:
            raise InputError(path, f"duplicate id {task.id!r} (first on line {seen[task.id]})", line=lineno, field="id")
        seen[task.id] = lineno
        tasks.append(task)
    if not tasks:
        raise InputError(path, "holds no seed tasks")
    digest = hashlib.sha256(read_text_utf8(path).encode()).hexdigest()
    shipped = path == default_seeds_path()
    return SeedSet(tasks=tasks, path=str(path), sha256=digest, name="default" if shipped else path.stem,
                   licence="Apache-2.0" if shipped else None)


def _seed_from_object(obj: dict, path, lineno: int, default_id: str) -> SeedTask:
    def text(key: str, where: dict, label: str | None = None, *, required: bool = True) -> str:
        label = label or key
        if key not in where:
            if required:
                raise InputError(path, "is missing", line=lineno, field=label)
            return ""
        value = where[key]
        if not isinstance(value, str):
            raise InputError(path, f"must be a string, got {type(value).__name__}", line=lineno, field=label)
        return check_text(value, path, lineno, label)

    if "instances" not in obj:  # an Alpaca record: instruction, input, output
        rec = validate_record(obj, path, lineno)
        return SeedTask(str(obj.get("id", default_id)), rec["instruction"], ((rec["input"], rec["output"]),))
    instruction = text("instruction", obj)
    if not instruction.strip():
        raise InputError(path, "is empty", line=lineno, field="instruction")
    # Self-Instruct's seed format
    instances = obj["instances"]
    if not isinstance(instances, list) or not instances:
        raise InputError(path, "must be a non-empty list of {input, output}", line=lineno, field="instances")
    pairs = []
    for i, inst in enumerate(instances):
        label = f"instances[{i}]"
        if not isinstance(inst, dict):
            raise InputError(path, "must be an object with input and output", line=lineno, field=label)
        pairs.append((text("input", inst, f"{label}.input", required=False), text("output", inst, f"{label}.output")))
    seed_id = obj.get("id", default_id)
    if not isinstance(seed_id, (str, int)):
        raise InputError(path, f"must be a string, got {type(seed_id).__name__}", line=lineno, field="id")
    is_clf = obj.get("is_classification", False)
    if not isinstance(is_clf, bool):
        raise InputError(path, f"must be true or false, got {is_clf!r}", line=lineno, field="is_classification")
    name = obj.get("name", "")
    if not isinstance(name, str):
        raise InputError(path, f"must be a string, got {type(name).__name__}", line=lineno, field="name")
    return SeedTask(str(seed_id), instruction, tuple(pairs), name, is_clf)


def sample_examples(rng: random.Random, seeds: list[SeedTask], k: int, machine: list[dict] = (), k_machine: int = 0) -> list[dict]:
    """`k` seed examples plus up to `k_machine` machine-generated ones (Self-Instruct mixed 6 + 2)."""
    picked = [s.example for s in rng.sample(seeds, min(k, len(seeds)))]
    if k_machine and machine:
        picked += rng.sample(list(machine), min(k_machine, len(machine)))
        rng.shuffle(picked)  # so the model cannot tell machine examples by their position
    return picked
