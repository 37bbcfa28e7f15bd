"""A fine-tuned model's training record: read from training_record.json, else from an older model card."""

from __future__ import annotations

import pytest

from evaluation.lineage import training_run
from finetune.training_record import (MODEL_CARD, TRAINING_RECORD, TrainingRecord, read_training_record,
                                      write_training_record)
from records.errors import InputError


def test_the_record_beside_the_weights_is_what_evaluation_reads(tmp_path):
    record = TrainingRecord(dataset="ds@3", content_hash="sha256:abc", from_registry=True, base_model="tiny",
                            recipe="alpaca", template="alpaca", steps=2, final_loss=1.25)
    write_training_record(record, tmp_path)
    (tmp_path / MODEL_CARD).write_text("# a card someone rewrote by hand, without front matter\n")
    assert read_training_record(tmp_path) == record
    assert training_run(tmp_path) == {"dataset": "ds@3", "content_hash": "sha256:abc", "from_registry": True,
                                      "output": str(tmp_path.resolve())}


def test_a_model_exported_before_the_record_is_read_from_its_card(tmp_path):
    # A dataset path holding `---` cut the old card parser's front matter short.
    (tmp_path / MODEL_CARD).write_text("---\nbase_model: tiny\ntraining_data:\n  dataset: runs/a---b.jsonl\n"
                                       "  content_hash: sha256:f00\n  from_registry: false\n---\n\n# m\n\n---\n")
    record = read_training_record(tmp_path)
    assert (record.dataset, record.content_hash, record.from_registry) == ("runs/a---b.jsonl", "sha256:f00", False)
    with pytest.raises(InputError, match="trained on a file") as error:
        training_run(tmp_path)
    assert error.value.field == "training_data.from_registry"


@pytest.mark.parametrize("files", [{}, {MODEL_CARD: "# no front matter\n"}, {TRAINING_RECORD: "{}"}])
def test_a_folder_without_training_data_is_refused_naming_the_file(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(InputError, match="names no training data") as error:
        read_training_record(tmp_path)
    assert error.value.path.endswith(TRAINING_RECORD if TRAINING_RECORD in files else MODEL_CARD)


def test_a_broken_record_is_one_clear_error(tmp_path):
    (tmp_path / TRAINING_RECORD).write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_training_record(tmp_path)
