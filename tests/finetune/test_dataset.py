"""Dataset files for fine-tuning: every format the records validator reads, its file:line:field errors."""

from __future__ import annotations

import json

import polars as pl
import pytest

from finetune.dataset import file_content_hash, load_records

RECORDS = [{"instruction": "Name a river, then a sea.", "input": "", "output": "Nile, Baltic"},
           {"instruction": "Fix the grammar.", "input": "He go home.", "output": "He goes home.\nDone."}]


def test_a_csv_dataset_loads_like_the_same_records_in_json_lines(tmp_path):
    csv, jsonl = tmp_path / "d.csv", tmp_path / "d.jsonl"
    pl.DataFrame(RECORDS).write_csv(csv)
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    records, source = load_records(str(csv))
    assert records == RECORDS == load_records(str(jsonl))[0]
    assert source.ref == str(csv) and not source.from_registry
    assert source.content_hash == file_content_hash(jsonl)


@pytest.mark.parametrize("name, text, where", [
    ("bad.jsonl", '{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": 3}\n',
     "bad.jsonl:2: field 'output' must be a string"),
    ("bad.json", '[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c"}\n]',
     "bad.json:3: field 'output' is missing"),
    ("bad.csv", 'instruction,input,output\na,,b\n" ",,c\n', "bad.csv:3: field 'instruction' is empty"),
])
def test_a_bad_dataset_file_is_refused_naming_file_line_and_field(tmp_path, name, text, where):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        load_records(str(path))
    assert str(error.value).startswith(str(tmp_path / where))


def test_a_dataset_with_no_records_cannot_be_trained_on(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("[]")
    with pytest.raises(ValueError, match="empty.json: the dataset has no records"):
        load_records(str(path))
