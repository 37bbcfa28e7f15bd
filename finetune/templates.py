"""Prompt templates: Alpaca-style (one form for records with an input, one without), or `chat`,
the base model's own chat template (finetune/chat_template.py encodes with it)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from records.files import read_text_utf8, write_text_atomic

TEMPLATE_FILE = "prompt_template.yaml"
"""Written into every fine-tuned model's folder: the exact prompt the model was trained on."""
CHAT = "chat"
"""The template name that means: the tokenizer's own chat template."""


@dataclass(frozen=True)
class Template:
    """Two format strings with `{instruction}` and `{input}` fields."""

    name: str
    with_input: str
    without_input: str

    def render(self, instruction: str, input: str | None = None) -> str:
        """The prompt for one record; the no-input form when `input` is empty or missing."""
        if input:
            return self.with_input.format(instruction=instruction, input=input)
        return self.without_input.format(instruction=instruction)


@dataclass(frozen=True)
class ChatTemplate:
    """The base tokenizer's chat template (Jinja text, empty until read from the tokenizer)."""

    name: str = CHAT
    source: str = ""


def load_template(name_or_path: str) -> Template | ChatTemplate:
    """A bundled template (`alpaca`), `chat`, or a YAML file with `with_input`, `without_input`
    (and `name`), or one recorded for a chat-trained model (`kind: chat`)."""
    if name_or_path == CHAT:
        return ChatTemplate()
    path = Path(name_or_path)
    if not (path.suffix in (".yaml", ".yml") and path.exists()):
        bundled = resources.files("finetune") / "templates" / f"{name_or_path}.yaml"
        if not bundled.is_file():
            raise ValueError(f"unknown template {name_or_path!r}: not a bundled name or a YAML file")
        path = Path(str(bundled))
    data = yaml.safe_load(read_text_utf8(path, what="template file")) or {}
    if data.get("kind") == CHAT:
        return ChatTemplate(data.get("name") or CHAT, data.get("chat_template") or "")
    for key in ("with_input", "without_input"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"{path}: template needs a string field {key!r}")
    if "{instruction}" not in data["without_input"] or "{input}" not in data["with_input"]:
        raise ValueError(f"{path}: templates must contain {{instruction}} (and {{input}} in with_input)")
    return Template(data.get("name") or path.stem, data["with_input"], data["without_input"])


def save_template(template: Template | ChatTemplate, path: Path) -> None:
    """Write `template` as YAML that `load_template` reads back unchanged (name included)."""
    if isinstance(template, ChatTemplate):
        data = {"name": template.name, "kind": CHAT, "chat_template": template.source}
    else:
        data = {"name": template.name, "with_input": template.with_input, "without_input": template.without_input}
    write_text_atomic(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6))
