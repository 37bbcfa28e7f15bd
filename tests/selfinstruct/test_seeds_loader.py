import json
import random

import pytest

from records.errors import InputError
from records.files import read_records
from selfinstruct.seeds import load_seeds, sample_examples


def write(tmp_path, name, text, mode="w"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def seed_line(**overrides):
    obj = {"id": "s0", "name": "n", "instruction": "Name a river in Africa.",
           "instances": [{"input": "", "output": "The Nile."}], "is_classification": False}
    obj.update(overrides)
    return json.dumps(obj)


def test_loads_self_instruct_seed_format(test_data):
    seeds = load_seeds(test_data / "seeds_tiny.jsonl")
    assert len(seeds.tasks) == 5
    assert seeds.tasks[1].is_classification is True
    assert seeds.tasks[2].example == {"instruction": seeds.tasks[2].instruction, "input": "26.2 miles",
                                      "output": "42.2 km"}
    assert len(seeds.sha256) == 64


def test_loads_alpaca_json_list_and_jsonl(tmp_path):
    records = [{"instruction": "Name a river.", "input": "", "output": "Nile"},
               {"instruction": "Add the numbers.", "input": "2 3", "output": "5"}]
    as_list = write(tmp_path, "a.json", json.dumps(records, indent=4))
    as_lines = write(tmp_path, "a.jsonl", "\n".join(json.dumps(r) for r in records))
    for path in (as_list, as_lines):
        seeds = load_seeds(path)
        assert [t.example for t in seeds.tasks] == records
        assert read_records(path) == records


@pytest.mark.parametrize(("content", "line", "field", "words"), [
    (seed_line() + "\n{not json\n", 2, None, "invalid JSON"),
    (seed_line() + "\n" + json.dumps({"id": "s1", "instances": [{"input": "", "output": "x"}]}), 2, "instruction", "missing"),
    (seed_line(instruction="   "), 1, "instruction", "empty"),
    (seed_line(instruction=7), 1, "instruction", "must be a string"),
    (seed_line(instances=[{"input": "", "output": 3}]), 1, "instances[0].output", "must be a string"),
    (seed_line(instances=[]), 1, "instances", "non-empty list"),
    (seed_line(is_classification="yes"), 1, "is_classification", "true or false"),
    (seed_line() + "\n\n" + seed_line(), 3, "id", "duplicate id 's0' (first on line 1)"),
    ("[\n" + seed_line() + ",\n 5\n]", 3, None, "expected a JSON object"),
])
def test_malformed_seed_files_name_file_line_and_field(tmp_path, content, line, field, words):
    path = write(tmp_path, "bad.jsonl", content)
    with pytest.raises(InputError) as info:
        load_seeds(path)
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), line, field)
    assert words in str(err) and str(path) in str(err)


def test_not_utf8_is_refused_with_line(tmp_path):
    path = write(tmp_path, "latin1.jsonl", (seed_line() + "\n").encode() + '{"instruction": "Café"}'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8") as info:
        load_seeds(path)
    assert info.value.line == 2


def test_alpaca_record_missing_output_names_field(tmp_path):
    path = write(tmp_path, "r.json", '[\n  {"instruction": "Name a river.", "input": ""}\n]')
    with pytest.raises(InputError) as info:
        read_records(path)
    assert (info.value.line, info.value.field) == (2, "output")


def test_sampling_is_deterministic_and_mixes_machine_examples(test_data):
    tasks = load_seeds(test_data / "seeds_tiny.jsonl").tasks
    machine = [{"instruction": f"Machine task {i}.", "input": "", "output": "x"} for i in range(4)]
    a = sample_examples(random.Random(1), tasks, 3, machine, 2)
    b = sample_examples(random.Random(1), tasks, 3, machine, 2)
    assert a == b and len(a) == 5
    assert sum(e["instruction"].startswith("Machine task") for e in a) == 2


def test_a_line_separator_inside_a_json_string_is_not_a_line_break(tmp_path):
    records = [{"instruction": "Join the two parts:\u2028first, second.", "input": "", "output": "first second"},
               {"instruction": "Name a river.", "input": "", "output": "Nile"}]
    path = write(tmp_path, "u2028.jsonl", "\r\n".join(json.dumps(r, ensure_ascii=False) for r in records))
    assert read_records(path) == records


def test_json_list_missing_comma_names_the_line(tmp_path):
    path = write(tmp_path, "r.json", '[\n  {"instruction": "Name a river.", "output": "Nile"}\n  {"instruction": "x"}\n]')
    with pytest.raises(InputError, match="expected ',' or ']'") as info:
        read_records(path)
    assert info.value.line == 3
