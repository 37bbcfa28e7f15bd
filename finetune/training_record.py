"""A fine-tuned model's training record: `training_record.json` beside the weights.

Written by `finetune run` when the model is exported; read by evaluation to tie answers and
scores to the dataset version the model was trained on. Models exported before the record
existed carry the same facts in their model card's front matter (`training_data`), which
`read_training_record` falls back to.

    {"dataset": "alpaca@2", "content_hash": "sha256:...", "from_registry": true,
     "base_model": "HuggingFaceTB/SmolLM2-135M", "recipe": "alpaca", "template": "alpaca", ...}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from records.contract import ABSENT, Contract
from records.errors import InputError
from records.files import read_text_utf8, write_json_atomic

TRAINING_RECORD = "training_record.json"
MODEL_CARD = "README.md"


@dataclass
class TrainingRecord(Contract):
    """What a model was trained on and how."""

    dataset: str | None = ABSENT
    """`name@N` for a registry version, else the path of the file given."""
    content_hash: str | None = ABSENT
    """`sha256:...` of the rows (a file hashes as it would as a version)."""
    from_registry: bool | None = ABSENT
    base_model: str | None = ABSENT
    recipe: str | None = ABSENT
    template: str | None = ABSENT
    """The prompt template's name; its text is in prompt_template.yaml beside the weights."""
    steps: int | None = ABSENT
    final_loss: float | None = ABSENT
    started: str | None = ABSENT
    finished: str | None = ABSENT


def write_training_record(record: TrainingRecord, model_dir: str | Path) -> Path:
    path = Path(model_dir) / TRAINING_RECORD
    write_json_atomic(path, record.to_dict())
    return path


def read_training_record(model_dir: str | Path) -> TrainingRecord:
    """The model folder's training record, else (for a model exported before it existed) the
    `training_data` of its model card; an InputError naming the file when neither names a dataset."""
    path = record_file(model_dir)
    if path.name == TRAINING_RECORD:
        try:
            data = json.loads(read_text_utf8(path))  # bounded like every input; InputError if not UTF-8
        except ValueError as e:
            raise InputError(path, f"is not valid JSON ({str(e).splitlines()[0][:200]})") from None
        record = TrainingRecord.from_dict(data)
    else:
        record = TrainingRecord.from_dict(_card_training_data(path))
    if not isinstance(record.dataset, str) or not record.dataset:
        raise InputError(path, "names no training data: not a model folder written by `selfinstruct finetune run`",
                         field="dataset" if path.name == TRAINING_RECORD else "training_data")
    return record


def record_file(model_dir: str | Path) -> Path:
    """The file the training record is read from: training_record.json, else the model card."""
    path = Path(model_dir) / TRAINING_RECORD
    return path if path.is_file() else Path(model_dir) / MODEL_CARD


def _card_training_data(card: Path) -> dict:
    """`training_data` from a model card's YAML front matter ({} when the card or the block is missing)."""
    if not card.is_file():
        return {}
    try:
        text = read_text_utf8(card)
    except InputError as e:
        if "UTF-8" not in str(e):
            raise  # over the input limit, or a device: said in one line
        return {}
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in (s.strip() for s in lines[1:]):
        return {}
    end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return {}
    data = meta.get("training_data") if isinstance(meta, dict) else None
    return data if isinstance(data, dict) else {}
