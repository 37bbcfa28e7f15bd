"""A malformed import names the line and field and commits nothing."""

from __future__ import annotations

import json

import pytest

import registry
from records.errors import InputError as ImportFormatError
from registry.importing import import_file

GOOD = {"instruction": "Say hi.", "input": "", "output": "Hi."}


def assert_refused(path, root, line, field, fragment):
    with pytest.raises(ImportFormatError) as info:
        import_file(path, name="bad", root=root)
    err = info.value
    assert (err.line, err.field) == (line, field)
    assert fragment in str(err) and str(path) in str(err)
    assert registry.list_datasets(root=root) == []


def test_jsonl_missing_field(tmp_path, root):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [GOOD, GOOD, {"instruction": "x", "input": ""}]) + "\n")
    assert_refused(path, root, 3, "output", "missing")


def test_jsonl_wrong_type_and_bad_json(tmp_path, root):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "output": 3}) + "\n")
    assert_refused(path, root, 2, "output", "expected text")
    path.write_text(json.dumps(GOOD) + "\n\n{\"instruction\": \n")
    assert_refused(path, root, 3, None, "invalid JSON")


def test_alpaca_json_names_the_line_of_the_bad_record(tmp_path, root):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([GOOD, GOOD, {**GOOD, "instruction": "  "}], indent=4))
    # Each record spans 5 lines after the opening bracket: the third starts on line 12.
    assert_refused(path, root, 12, "instruction", "empty")


def test_csv_names_the_line(tmp_path, root):
    path = tmp_path / "bad.csv"
    path.write_text("instruction,input,output\nSay hi.,,Hi.\nSay bye.,,Bye.\n")
    import_file(path, name="fine", root=root)  # empty input is allowed
    path.write_text("instruction,output\nSay hi.,Hi.\n,Bye.\n")
    with pytest.raises(ImportFormatError) as info:
        import_file(path, name="bad", root=root)
    assert (info.value.line, info.value.field) == (3, "instruction")
    assert registry.list_datasets(root=root) == ["fine"]


@pytest.mark.parametrize("text", ["", 'instruction,output\n"Say hi.,Hi.\n'])
def test_a_csv_that_cannot_be_parsed_is_named_not_a_traceback(tmp_path, root, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    assert_refused(path, root, None, None, "is not a readable CSV file")
