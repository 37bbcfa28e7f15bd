"""Evaluation sets: the instructions a model answers, from a file or a registry version.

Every set becomes a list of plain items {id, instruction, input, reference, category}:

- Self-Instruct's user-oriented format: `motivation_app`, `instruction`, `instances[{input, output}]`
  (the first instance is the one asked; its output is the reference; the app is the category);
- AlpacaEval's format: `instruction`, `output`, `generator`, `dataset` (the dataset is the category;
  the output, by `generator`, is the reference);
- Alpaca records (`instruction`, `input`, `output`) from a file or any registry version (`name@N`);
  a `category`, `dataset` or `motivation_app` column, when present, is the category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evaluation.outputs import set_sha256
from records.errors import InputError
from records.files import read_json_objects
from records.lineage import Lineage

CATEGORY_KEYS = ("category", "motivation_app", "dataset")
ORIGIN_KEYS = ("dataset", "motivation_app")  # kept on each answer, as AlpacaEval and Self-Instruct name them


@dataclass
class EvalSet:
    name: str
    source: str
    """The file path or the resolved registry reference (name@N)."""
    format: str
    """"user-oriented", "alpaca-eval", "alpaca" or "registry"."""
    items: list[dict] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """Identity of what is asked: the instructions and inputs, in order."""
        return set_sha256(self.items)

    @property
    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            if item["category"]:
                counts[item["category"]] = counts.get(item["category"], 0) + 1
        return counts

    def summary(self) -> dict:
        return {"name": self.name, "source": self.source, "format": self.format, "items": len(self.items),
                "with_reference": sum(1 for i in self.items if i["reference"] is not None),
                "categories": self.categories, "sha256": self.sha256}


def _string(obj: dict, key: str, path, line: int, *, required: bool = False, default: str | None = "") -> str | None:
    if key not in obj or obj[key] is None:
        if required:
            raise InputError(path, "is missing", line=line, field=key)
        return default
    if not isinstance(obj[key], str):
        raise InputError(path, f"must be a string, got {type(obj[key]).__name__}", line=line, field=key)
    return obj[key]


def detect_format(obj: dict) -> str:
    # An answer file keeps `motivation_app` beside its `output`: that is not the user-oriented format.
    if "instances" in obj or ("motivation_app" in obj and "output" not in obj):
        return "user-oriented"
    if "generator" in obj and "input" not in obj:
        return "alpaca-eval"
    return "alpaca"


def item_from_object(obj: dict, path, line: int, index: int) -> dict:
    """One evaluation item from a record of any of the three file formats."""
    instruction = _string(obj, "instruction", path, line, required=True)
    if not instruction.strip():
        raise InputError(path, "is empty", line=line, field="instruction")
    category = next((obj[k] for k in CATEGORY_KEYS if isinstance(obj.get(k), str) and obj[k]), None)
    origin = {k: obj[k] for k in ORIGIN_KEYS if isinstance(obj.get(k), str) and obj[k]}
    item_id = str(obj.get("id", index))
    if detect_format(obj) == "user-oriented":
        instances = obj.get("instances")
        if not isinstance(instances, list) or not instances:
            raise InputError(path, "must be a non-empty list of {input, output}", line=line, field="instances")
        first = instances[0]
        if not isinstance(first, dict):
            raise InputError(path, f"must be an object, got {type(first).__name__}", line=line, field="instances[0]")
        return {"id": item_id, "instruction": instruction,
                "input": _string(first, "input", path, line) if "input" in first else "",
                "reference": _string(first, "output", path, line, default=None), "category": category,
                "dataset": origin.get("dataset", "selfinstruct"), **origin}
    return {"id": item_id, "instruction": instruction, "input": _string(obj, "input", path, line),
            "reference": _string(obj, "output", path, line, default=None), "category": category, **origin,
            **({"reference_generator": obj["generator"]} if isinstance(obj.get("generator"), str) else {})}


def load_file(path: str | Path) -> EvalSet:
    """An evaluation set from a JSON list or JSON Lines file in any of the supported formats."""
    items, formats = [], set()
    for index, (line, obj) in enumerate(read_json_objects(path)):
        formats.add(detect_format(obj))
        items.append(item_from_object(obj, path, line, index))
    if not items:
        raise InputError(path, "holds no instructions")
    fmt = formats.pop() if len(formats) == 1 else "mixed"
    return EvalSet(Path(path).stem.removesuffix(".model_outputs"), str(path), fmt, items)


def load_registry(ref: str, *, root=None) -> EvalSet:
    """An evaluation set from a registry version: every row's instruction and input."""
    import registry

    version = registry.resolve(ref, root=root)
    frame = registry.open(version.ref, root=root)
    category = next((k for k in CATEGORY_KEYS if k in frame.columns), None)
    items = []
    for index, row in enumerate(frame.iter_rows(named=True)):
        origin = {k: row[k] for k in ORIGIN_KEYS if isinstance(row.get(k), str) and row[k]}
        items.append({"id": str(row.get("id") or index), "instruction": row["instruction"],
                      "input": row.get("input") or "", "reference": row.get("output"),
                      "category": row.get(category) if category else None, **origin})
    return EvalSet(version.name, version.ref, "registry", items)


def load_set(source: str | Path, *, root=None) -> EvalSet:
    """A file when `source` names one, else a registry reference (name, name@N, name@alias)."""
    if Path(source).exists():
        return load_file(source)
    return load_registry(str(source), root=root)


def commit_set(eval_set: EvalSet, name: str, *, root=None) -> str:
    """Commit the set to the registry as a version of `name`; returns its reference."""
    import polars as pl

    import registry

    frame = pl.DataFrame({
        "id": [i["id"] for i in eval_set.items],
        "instruction": [i["instruction"] for i in eval_set.items],
        "input": [i["input"] for i in eval_set.items],
        "output": [i["reference"] or "" for i in eval_set.items],
        "category": [i["category"] or "" for i in eval_set.items],
        **{k: [i.get(k) or "" for i in eval_set.items] for k in ORIGIN_KEYS if any(i.get(k) for i in eval_set.items)},
    })
    lineage = Lineage(operation="import", source=eval_set.source,
                      parameters={"kind": "evaluation set", "format": eval_set.format, "set_sha256": eval_set.sha256})
    return registry.commit(frame, name=name, lineage=lineage, root=root).ref
