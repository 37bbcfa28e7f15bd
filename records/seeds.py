"""The one reader of seed files: Self-Instruct's seed format or Alpaca records, validated with
file:line:field errors.

Generation reads seed tasks with their examples (`selfinstruct.seeds.load_seeds`); dedup, `registry
dedup --seeds` and the datasheet's novelty figure need only the instructions (`read_seed_instructions`),
through the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from records.errors import InputError
from records.files import check_text, read_json_objects, validate_record


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


def read_seed_tasks(path: str | Path, *, examples: bool = True) -> list[SeedTask]:
    """The tasks of a seed file, in file order; a malformed object ends the read naming file, line and field.

    Accepts Self-Instruct's seed format (`id`, `name`, `instruction`, `instances`,
    `is_classification`) and Alpaca records (`instruction`, `input`, `output`; JSON list or JSONL).
    With `examples=False` an object may hold an instruction alone (its task has no instances).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such seed file")
    tasks: list[SeedTask] = []
    seen: dict[str, int] = {}
    for lineno, obj in read_json_objects(path):
        task = _seed_from_object(obj, path, lineno, default_id=f"seed_{len(tasks)}", examples=examples)
        if task.id in seen:
            raise InputError(path, f"duplicate id {task.id!r} (first on line {seen[task.id]})", line=lineno, field="id")
        seen[task.id] = lineno
        tasks.append(task)
    if not tasks:
        raise InputError(path, "holds no seed tasks")
    return tasks


def read_seed_instructions(path: str | Path) -> list[str]:
    """The instruction of every task in a seed file (any format `read_seed_tasks` reads; examples optional)."""
    return [task.instruction for task in read_seed_tasks(path, examples=False)]


def _seed_from_object(obj: dict, path, lineno: int, default_id: str, examples: bool) -> SeedTask:
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

    if "instances" not in obj and (examples or "output" in obj):  # an Alpaca record: instruction, input, output
        rec = validate_record(obj, path, lineno)
        return SeedTask(str(obj.get("id", default_id)), rec["instruction"], ((rec["input"], rec["output"]),))
    instruction = text("instruction", obj)
    if not instruction.strip():
        raise InputError(path, "is empty", line=lineno, field="instruction")
    if "instances" not in obj:  # an instruction alone, read for its instruction only
        return SeedTask(str(obj.get("id", default_id)), instruction, ())
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
