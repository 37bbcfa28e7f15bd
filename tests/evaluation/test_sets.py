"""Evaluation sets from the three file formats and the registry, with file:line:field errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from evaluation.sets import commit_set, load_set
from records.errors import InputError
from commands.main import cli

USER_ORIENTED = [
    {"id": "user_oriented_task_0", "motivation_app": "Grammarly", "instruction": "Fix the grammar.",
     "instances": [{"input": "He go home.", "output": "He goes home."}]},
    {"id": "user_oriented_task_1", "motivation_app": "Gmail", "instruction": "Write a subject line.",
     "instances": [{"input": "", "output": "Meeting moved"}]},
]
ALPACA_EVAL = [{"instruction": "Name a river.", "output": "Nile", "generator": "text_davinci_003",
                "dataset": "selfinstruct"}]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_user_oriented_format(tmp_path):
    s = load_set(write_jsonl(tmp_path / "uo.jsonl", USER_ORIENTED))
    assert s.format == "user-oriented" and len(s.items) == 2
    assert s.items[0] == {"id": "user_oriented_task_0", "instruction": "Fix the grammar.", "input": "He go home.",
                          "reference": "He goes home.", "category": "Grammarly",
                          "dataset": "selfinstruct", "motivation_app": "Grammarly"}
    assert s.categories == {"Grammarly": 1, "Gmail": 1}


def test_alpaca_eval_format(tmp_path):
    path = tmp_path / "text_davinci_003.model_outputs.json"
    path.write_text(json.dumps(ALPACA_EVAL))
    s = load_set(path)
    assert (s.name, s.format) == ("text_davinci_003", "alpaca-eval")
    assert s.items[0]["reference"] == "Nile" and s.items[0]["reference_generator"] == "text_davinci_003"
    assert s.items[0]["category"] == "selfinstruct" and s.items[0]["input"] == ""


@pytest.mark.parametrize("row,field", [
    ({"motivation_app": "X", "instruction": "Do it.", "instances": []}, "instances"),
    ({"instruction": 3, "output": "x"}, "instruction"),
    ({"output": "x"}, "instruction"),
    ({"instruction": "Do it.", "input": ["x"], "output": "y"}, "input"),
])
def test_errors_name_file_line_and_field(tmp_path, row, field):
    path = write_jsonl(tmp_path / "bad.jsonl", [USER_ORIENTED[0], row])
    with pytest.raises(InputError) as e:
        load_set(path)
    assert (e.value.line, e.value.field) == (2, field)


def test_commit_and_load_back_from_the_registry(tmp_path):
    root = str(tmp_path / "reg")
    s = load_set(write_jsonl(tmp_path / "uo.jsonl", USER_ORIENTED))
    ref = commit_set(s, "uo-eval", root=root)
    back = load_set(ref, root=root)
    assert ref == "uo-eval@1" and back.format == "registry"
    assert back.sha256 == s.sha256 and [i["category"] for i in back.items] == ["Grammarly", "Gmail"]


def test_answers_to_a_committed_set_name_the_dataset_and_app_as_answers_to_the_file_do(tmp_path):
    from evaluation.answer import load_instructions

    root = str(tmp_path / "reg")
    path = write_jsonl(tmp_path / "uo.jsonl", USER_ORIENTED)
    ref = commit_set(load_set(path), "uo-eval", root=root)
    assert load_instructions(ref, root=root) == load_instructions(path)
    assert load_instructions(ref, root=root)[0]["dataset"] == "selfinstruct"


def test_sets_cli_commits_and_lists(tmp_path):
    root = str(tmp_path / "reg")
    path = write_jsonl(tmp_path / "uo.jsonl", USER_ORIENTED)
    r = CliRunner().invoke(cli, ["eval", "sets", str(path), "--into", "uo-eval", "--registry", root])
    assert r.exit_code == 0, r.output
    assert "user-oriented, 2 instructions" in r.output and "committed uo-eval@1" in r.output
    r = CliRunner().invoke(cli, ["eval", "sets", "--registry", root, "--json"])
    assert json.loads(r.output)["registry"] == [{"ref": "uo-eval@1", "rows": 2}]


def test_answers_with_a_separate_input_pair_with_alpaca_eval_folded_instructions(tmp_path):
    from evaluation.outputs import pair_outputs, read_model_outputs, set_key

    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps([{"instruction": "Fix the grammar.", "input": "He go home.", "output": "He goes home.",
                                 "generator": "mine"},
                                {"instruction": "Name a river.", "input": "", "output": "Nile", "generator": "mine"}]))
    published = tmp_path / "ref.json"
    published.write_text(json.dumps([{"instruction": "Name a river.", "output": "Amazon", "generator": "ref"},
                                     {"instruction": "Fix the grammar.\n\nHe go home.", "output": "He goes home.",
                                      "generator": "ref"},
                                     {"instruction": "Only in the reference.", "output": "x", "generator": "ref"}]))
    a, b = read_model_outputs(ours), read_model_outputs(published)
    pairs, unmatched = pair_outputs(a, b)
    assert [(p["output_a"], p["output_b"]) for p in pairs] == [("He goes home.", "He goes home."), ("Nile", "Amazon")]
    assert unmatched == {"only_a": 0, "only_b": 1}
    assert set_key(a.rows) != set_key(b.rows) and set_key(a.rows) == set_key(list(reversed(a.rows)))


@pytest.mark.shared
def test_user_oriented_set_pairs_with_alpaca_eval_selfinstruct_items(shared_data):
    from evaluation.outputs import pair_outputs, read_model_outputs

    uo = load_set(shared_data / "user_oriented_instructions.jsonl")
    path = shared_data / "alpaca_eval" / "text_davinci_003.model_outputs.json"
    answers = read_model_outputs(path)
    mine = type(answers)("mine", "mine", [{**i, "output": "x", "category": i["category"]} for i in uo.items])
    pairs, unmatched = pair_outputs(mine, answers)
    assert len(pairs) == 252 and unmatched == {"only_a": 0, "only_b": 805 - 252}


def test_uploaded_answer_bytes_read_as_the_file_would_with_the_label_in_errors(tmp_path):
    from evaluation.outputs import parse_model_outputs, read_model_outputs
    from records.files import decode_utf8

    rows = [{"instruction": "Name a river.", "output": "Nile"}, {"instruction": "Name a sea.", "output": 3}]
    data = b"\xef\xbb\xbf" + json.dumps(rows, indent=2).encode()
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    with pytest.raises(InputError) as on_disk:
        read_model_outputs(path)
    with pytest.raises(InputError) as uploaded:
        parse_model_outputs(decode_utf8(data, "answers (bad.json)"), "answers (bad.json)", default_generator="x")
    assert str(uploaded.value) == "answers (bad.json):6: field 'output' must be a string, got int"
    assert str(on_disk.value) == f"{path}:6: field 'output' must be a string, got int"
    with pytest.raises(InputError, match=r"^answers \(x\):2: is not UTF-8"):
        decode_utf8(b'{"instruction": "a"}\n{"output": "caf\xe9"}', "answers (x)")


def test_an_answer_file_that_answers_a_request_twice_is_refused_naming_both_lines():
    from evaluation.outputs import parse_model_outputs

    text = "\n".join(json.dumps(r) for r in [{"instruction": "Name a river.", "output": "Nile"},
                                             {"instruction": "Name a sea.", "output": "Baltic"},
                                             {"instruction": "Name a river.", "output": "Congo"}])
    with pytest.raises(InputError) as e:
        parse_model_outputs(text, "answers_2 (dup.jsonl)", default_generator="system 2")
    assert str(e.value) == "answers_2 (dup.jsonl):3: field 'instruction' repeats the instruction (and input) of line 1"
