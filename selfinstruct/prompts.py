"""Render batched prompts in the numbered `###` format that the parser reads back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from records.errors import InputError
from records.files import read_text_utf8

NOINPUT = "<noinput>"


@dataclass(frozen=True)
class PromptTemplate:
    """The instruction text that precedes the numbered examples; `{num_tasks}` is filled in."""

    text: str
    path: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def load_shipped(name: str) -> PromptTemplate:
    """A prompt shipped in selfinstruct/templates/."""
    res = resources.files("selfinstruct").joinpath(f"templates/{name}")
    return PromptTemplate(res.read_text(encoding="utf-8"), f"selfinstruct/templates/{name}")


def load_template(path: str | Path | None = None) -> PromptTemplate:
    """The shipped template, or a user's file given with --prompt-file."""
    if path is None:
        return load_shipped("prompt.txt")
    path = Path(path)
    text = read_text_utf8(path, what="prompt file")
    if not text.strip():
        raise InputError(path, "is empty")
    if "{num_tasks}" not in text:
        raise InputError(path, "has no {num_tasks} placeholder: the prompt must say how many tasks to write "
                         "(e.g. 'Come up with {num_tasks} diverse task instructions')")
    return PromptTemplate(text, str(path))


def render_example(number: int, example: dict) -> str:
    inp = example.get("input", "").strip() or NOINPUT
    return (f"###\n{number}. Instruction: {example['instruction'].strip()}\n"
            f"{number}. Input:\n{inp}\n{number}. Output:\n{example['output'].strip()}\n")


def render_prompt(template: PromptTemplate, examples: list[dict], num_tasks: int = 20) -> str:
    """Template text, the numbered in-context examples, then the opening of the first new task.

        >>> render_prompt(t, [ex1, ex2, ex3]).endswith("###\\n4. Instruction:")
        True
    """
    header = template.text.replace("{num_tasks}", str(num_tasks))
    body = "".join(render_example(i, ex) for i, ex in enumerate(examples, start=1))
    return f"{header.rstrip()}\n\n{body}###\n{len(examples) + 1}. Instruction:"


def stop_sequence(num_examples: int, num_tasks: int) -> str:
    """Stop before the model starts a task beyond the ones asked for."""
    return f"{num_examples + num_tasks + 1}. Instruction:"
