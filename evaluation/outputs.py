"""Model answers in AlpacaEval's model_outputs.json layout: read them and pair two models' answers.

A row is {instruction, output, generator, dataset?, input?}. Two answer files are paired on the
request text: the instruction, followed by a blank line and the input when there is one. That is
how AlpacaEval folds Self-Instruct's inputs into its instructions, so answers kept with a separate
`input` pair with published AlpacaEval outputs, whatever the order of either file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from records.errors import InputError
from records.files import parse_json_objects, read_text_utf8


@dataclass
class ModelOutputs:
    path: str
    generator: str
    rows: list[dict]
    """{instruction, input, output, category} per answer, in file order."""

    @property
    def sha256(self) -> str:
        canon = json.dumps([[r["instruction"], r["input"], r["output"]] for r in self.rows], ensure_ascii=False)
        return hashlib.sha256(canon.encode()).hexdigest()


def request_key(row: dict) -> str:
    """The request as one text: "instruction" or "instruction\n\ninput" (AlpacaEval's folding)."""
    return row["instruction"] + ("\n\n" + row["input"] if row.get("input") else "")


def read_model_outputs(path: str | Path) -> ModelOutputs:
    """Answers from a model_outputs.json (or JSON Lines); the generator is the rows' own, else the file name."""
    return parse_model_outputs(read_text_utf8(path), path, default_generator=Path(path).name.split(".")[0])


def parse_model_outputs(text: str, source, *, default_generator: str) -> ModelOutputs:
    """Answers from the text of a model_outputs.json (or JSON Lines), errors naming `source`.

    Every answer needs a text instruction and output; a request answered twice, or answers of
    several generators in one file, are refused. The generator is the rows' own, else `default_generator`.
    """
    rows, generators, seen = [], set(), {}
    for line, obj in parse_json_objects(text, source):
        for name in ("instruction", "output"):
            if name not in obj:
                raise InputError(source, "is missing", line=line, field=name)
        for name in ("instruction", "output", "input", "generator", "dataset", "category"):
            if obj.get(name) is not None and not isinstance(obj[name], str):
                raise InputError(source, f"must be a string, got {type(obj[name]).__name__}", line=line, field=name)
        key = request_key(obj)
        if key in seen:
            raise InputError(source, f"repeats the instruction (and input) of line {seen[key]}", line=line,
                             field="instruction")
        seen[key] = line
        if obj.get("generator"):
            generators.add(obj["generator"])
        rows.append({"instruction": obj["instruction"], "input": obj.get("input") or "", "output": obj["output"],
                     "category": obj.get("dataset") or obj.get("category")})
    if not rows:
        raise InputError(source, "holds no answers")
    if len(generators) > 1:
        raise InputError(source, f"mixes answers of several generators ({', '.join(sorted(generators))})",
                         field="generator")
    return ModelOutputs(str(source), generators.pop() if generators else default_generator, rows)


def pair_outputs(a: ModelOutputs, b: ModelOutputs) -> tuple[list[dict], dict]:
    """Items answered by both, in A's order: {instruction, input, output_a, output_b, category}.

    The second value counts what could not be paired: {"only_a": n, "only_b": n}.
    """
    by_key = {request_key(r): r for r in b.rows}
    pairs = []
    for r in a.rows:
        other = by_key.get(request_key(r))
        if other is not None:
            pairs.append({"instruction": r["instruction"], "input": r["input"], "output_a": r["output"],
                          "output_b": other["output"], "category": r["category"] or other["category"]})
    keys_a = {request_key(r) for r in a.rows}
    unmatched = {"only_a": len(a.rows) - len(pairs), "only_b": sum(1 for k in by_key if k not in keys_a)}
    return pairs, unmatched


def set_sha256(rows: list[dict], *, any_order: bool = False) -> str:
    """The identity of what a set asks (its instructions and inputs): the one hash of an evaluation set.

    In order, SHA-256 of `[[instruction, input], ...]`: an evaluation set's `sha256`, its registry
    lineage and the answers journal's identity (so a resumed run asks the same set). With
    `any_order`, SHA-256 of the sorted request texts: two answer files with the same value answer
    the same set, whatever their order (how `eval compare` matches recorded answers). Both forms
    are stored, so neither may change.
    """
    if any_order:
        canon = sorted(request_key(r) for r in rows)
    else:
        canon = [[r["instruction"], r["input"]] for r in rows]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()


def set_key(rows: list[dict]) -> str:
    """`set_sha256(rows, any_order=True)`: the identity of the set an answers file answers."""
    return set_sha256(rows, any_order=True)
