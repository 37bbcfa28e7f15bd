"""How an instruction becomes the text a model sees.

A model fine-tuned here is prompted with the template it was trained on (finetune writes it to
`prompt_template.yaml` in the model folder; a model trained with `--template chat` records its chat
template there); other checkpoints with a chat template get the instruction as a user message;
anything else gets the plain instruction. `--template` overrides.
The input, when there is one, follows the instruction after a blank line (AlpacaEval joins
Self-Instruct's instruction and input the same way), except for a model trained here with its chat
template: it gets the user turn it was trained on (records/conversations.py: a blank line, `Input:`,
the input).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from finetune.templates import TEMPLATE_FILE, ChatTemplate, Template, load_template
from records.conversations import user_turn
from records.files import read_text_utf8

KINDS = ("template", "chat", "plain")


@dataclass(frozen=True)
class PromptFormat:
    kind: str
    """template (a finetune template), chat (the model's chat template) or plain (the bare text)."""
    name: str
    source: str
    """Where the choice came from: the recorded template file, --template, the tokenizer, or the default."""
    template: Template | None = None
    labelled_input: bool = False
    """True for a model trained here with its chat template: the user turn is built as in training."""

    def render(self, instruction: str, input: str = "") -> str:
        """The prompt text for one instruction: the filled template, or the user message."""
        if self.template is not None:
            return self.template.render(instruction, input or None)
        if self.labelled_input:
            return user_turn(instruction, input)
        return user_message(instruction, input)

    def render_conversation(self, turns: list[tuple[str, str]], message: str, system: str | None = None) -> str:
        """Earlier (message, reply) turns and a new message as one prompt, for formats without
        roles: each turn is rendered and followed by its reply; a system text goes first."""
        parts = [system] if system else []
        parts += [self.render(user) + reply for user, reply in turns]
        parts.append(self.render(message))
        return "\n\n".join(parts)

    @property
    def sha256(self) -> str:
        body = {"kind": self.kind, "name": self.name}
        if self.template is not None:
            body.update(with_input=self.template.with_input, without_input=self.template.without_input)
        if self.labelled_input:
            body.update(labelled_input=True)
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.name, "source": self.source, "sha256": self.sha256}


def user_message(instruction: str, input: str = "") -> str:
    return f"{instruction}\n\n{input}" if input else instruction


def resolve_format(model_dir: str | None, template: str | None = None, *, has_chat_template: bool) -> PromptFormat:
    """The prompt format for a model: `template` when given (a finetune template name or YAML file,
    or `chat` / `plain`), else the template recorded by finetune in `model_dir`, else the chat
    template when the model has one, else plain text."""
    if template == "plain":
        return PromptFormat("plain", "plain", "--template")
    if template and template != "chat":
        try:
            return _trained_with(load_template(template), "--template")
        except ValueError as e:
            raise ValueError(f"--template: {e}") from None
    trained = _recorded_format(Path(model_dir)) if model_dir else None
    if template == "chat":  # a model trained here with its chat template keeps its user turn
        return trained if trained and trained.kind == "chat" else PromptFormat("chat", "chat", "--template")
    if trained:
        return trained
    if has_chat_template:
        return PromptFormat("chat", "chat_template", "the model's chat template")
    return PromptFormat("plain", "plain", "default (no recorded template, no chat template)")


def _recorded_format(model_dir: Path) -> PromptFormat | None:
    """The format finetune recorded in `model_dir`, if any."""
    recorded = model_dir / TEMPLATE_FILE
    if recorded.exists():
        return _trained_with(load_template(str(recorded)), str(recorded))
    config = model_dir / "finetune_config.yaml"  # models trained before the template was recorded
    if config.exists():
        name = (yaml.safe_load(read_text_utf8(config)) or {}).get("template")
        if name:
            return _trained_with(load_template(name), str(config))
    return None


def _trained_with(template: Template | ChatTemplate, source: str) -> PromptFormat:
    """The format of a model fine-tuned here: its Alpaca-style template, or its own chat template."""
    if isinstance(template, ChatTemplate):
        return PromptFormat("chat", template.name, source, labelled_input=True)
    return PromptFormat("template", template.name, source, template)
