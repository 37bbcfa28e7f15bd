"""Chat shapes in and out: `messages` and ShareGPT lines become records, versions export as them,
and records -> messages -> records keeps every row and the version hash."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from records.conversations import INPUT_SEPARATOR, chat_record, split_user_turn, to_chat_line, user_turn
from records.errors import InputError
from registry.cli import registry as registry_group
from registry.export import export
from registry.importing import import_file

RECORDS = [
    {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well; sleep; move."},
    {"instruction": "Translate to French.", "input": "Good morning — café ☕", "output": "Bonjour — café ☕"},
    {"instruction": "Sort the list.\n\nKeep duplicates.", "input": "b, a\n\nc", "output": "a, b, c"},
    {"instruction": "Say hi.", "input": "", "output": ""},
]


def write_lines(path, objects):
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8")
    return path


def test_user_turn_joins_and_splits_instruction_and_input():
    assert user_turn("Sort.", "b a") == "Sort.\n\nInput:\nb a" == "Sort." + INPUT_SEPARATOR + "b a"
    assert user_turn("Sort.") == "Sort." and split_user_turn("Sort.") == ("Sort.", "")
    for r in RECORDS:
        assert split_user_turn(user_turn(r["instruction"], r["input"])) == (r["instruction"], r["input"])


def test_a_conversation_line_becomes_a_record_with_its_system_turn_and_extra_keys():
    line = {"id": "a1", "messages": [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Sort.\n\nInput:\nb a"},
                                     {"role": "assistant", "content": "a b"}]}
    assert chat_record(line, "f.jsonl", 1) == {"instruction": "Sort.", "input": "b a", "output": "a b",
                                               "system": "Be brief.", "id": "a1"}
    sharegpt = to_chat_line(chat_record(line, "f.jsonl", 1), "sharegpt")
    assert sharegpt == {"conversations": [{"from": "system", "value": "Be brief."},
                                          {"from": "human", "value": "Sort.\n\nInput:\nb a"},
                                          {"from": "gpt", "value": "a b"}]}
    assert chat_record(sharegpt, "f.jsonl", 1)["system"] == "Be brief."
    record = {"instruction": "x", "output": "y"}
    assert chat_record(record, "f.jsonl", 1) is record  # not a conversation: left to the record validator


@pytest.mark.parametrize("turns, fragment, field", [
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
      {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}],
     "is a multi-turn conversation (user > assistant > user > assistant)", "messages"),
    ([{"role": "user", "content": "a"}], "needs one user turn followed by one assistant turn, got user", "messages"),
    ([{"role": "assistant", "content": "b"}, {"role": "user", "content": "a"}], "got assistant > user", "messages"),
    ([{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}], "role 'tool' is not one of", "messages[1]"),
    ([{"role": "user", "content": [{"type": "text", "text": "a"}]}], "content must be text, got list", "messages[0]"),
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "s"}, {"role": "assistant", "content": "b"}],
     "system turn after the first turn", "messages"),
    ([], "must be a non-empty list of turns", "messages"),
])
def test_a_conversation_that_is_not_one_exchange_is_refused_with_line_and_reason(tmp_path, root, turns, fragment,
                                                                                field):
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    path = write_lines(tmp_path / "chat.jsonl", [good, {"messages": turns}])
    with pytest.raises(InputError) as info:
        import_file(path, name="chat", root=root)
    assert (info.value.line, info.value.field) == (2, field)
    assert fragment in str(info.value) and str(path) in str(info.value)
    assert registry.list_datasets(root=root) == []


def test_the_named_chat_format_requires_its_shape(tmp_path, root):
    path = write_lines(tmp_path / "alpaca.jsonl", RECORDS)
    with pytest.raises(InputError, match="must be a non-empty list of turns"):
        import_file(path, name="chat", fmt="sharegpt", root=root)


@pytest.mark.parametrize("fmt", ["messages", "sharegpt"])
def test_records_to_chat_to_records_gives_the_same_hash(tmp_path, root, fmt):
    original = import_file(write_lines(tmp_path / "in.jsonl", RECORDS), name="tips", root=root)
    out = export(original.ref, fmt, tmp_path / f"{fmt}.jsonl", root=root)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    key = "messages" if fmt == "messages" else "conversations"
    assert [list(line) for line in lines] == [[key]] * len(RECORDS)
    back = import_file(out, name="back", root=root)  # auto-detected from the lines' shape
    assert back.hash == original.hash
    assert registry.open(back.ref, root=root).to_dicts() == RECORDS


def test_system_turns_survive_the_round_trip_and_show_on_the_datasheet(tmp_path, root):
    lines = [to_chat_line(r, "messages", system="Answer briefly.") for r in RECORDS]
    first = import_file(write_lines(tmp_path / "chat.jsonl", lines), name="chat", root=root)
    rows = registry.open(first.ref, root=root)
    assert rows.columns == ["instruction", "input", "output", "system"]
    assert rows.get_column("system").to_list() == ["Answer briefly."] * len(RECORDS)
    again = import_file(export(first.ref, "messages", tmp_path / "again.jsonl", root=root), name="chat", root=root)
    assert again.hash == first.hash
    from registry.datasheet import render_markdown
    assert "instruction, input, output, system" in render_markdown(first, root=root)


def test_export_system_option_applies_to_rows_without_their_own(tmp_path, root):
    version = import_file(write_lines(tmp_path / "in.jsonl", RECORDS[:2]), name="tips", root=root)
    out = export(version.ref, "messages", tmp_path / "m.jsonl", root=root, system="You are terse.")
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[1])["messages"]
    assert first == [{"role": "system", "content": "You are terse."},
                     {"role": "user", "content": "Translate to French.\n\nInput:\nGood morning — café ☕"},
                     {"role": "assistant", "content": "Bonjour — café ☕"}]


def test_cli_exports_messages_and_hf_with_a_messages_column(tmp_path, root):
    runner = CliRunner()
    data = write_lines(tmp_path / "in.jsonl", RECORDS)

    def run(*args):
        return runner.invoke(registry_group, ["--registry", root, *args])

    assert run("import", str(data), "--name", "tips").exit_code == 0
    result = run("export", "tips@1", "--format", "messages", "--output", str(tmp_path / "m.jsonl"), "--system", "S")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m.jsonl").read_text().splitlines()[0])["messages"][0] == {"role": "system",
                                                                                           "content": "S"}
    bad = run("export", "tips@1", "--format", "jsonl", "--output", str(tmp_path / "x.jsonl"), "--system", "S")
    assert bad.exit_code == 2 and "--system applies to the messages" in bad.output
    result = run("export", "tips@1", "--format", "hf", "--messages", "--output", str(tmp_path / "hf"))
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(tmp_path / "hf" / "data" / "train-00000-of-00001.parquet")
    assert frame.columns == ["instruction", "input", "output", "messages"]
    assert frame.row(1, named=True)["messages"][0] == {"role": "user",
                                                       "content": "Translate to French.\n\nInput:\nGood morning — café ☕"}
    assert "name: messages" in (tmp_path / "hf" / "README.md").read_text()


def test_hf_messages_column_loads_with_datasets(tmp_path, root):
    datasets = pytest.importorskip("datasets", reason="the `datasets` library is a dev-only dependency")
    version = import_file(write_lines(tmp_path / "in.jsonl", RECORDS), name="tips", root=root)
    out = export(version.ref, "hf", tmp_path / "hf", root=root, messages_column=True, system="S")
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == len(RECORDS)
    assert loaded[0]["messages"] == [{"role": "system", "content": "S"},
                                     {"role": "user", "content": RECORDS[0]["instruction"]},
                                     {"role": "assistant", "content": RECORDS[0]["output"]}]


def test_the_lineage_names_the_chat_format_found_in_a_jsonl_file(tmp_path, root):
    lines = [to_chat_line(r, "sharegpt") for r in RECORDS]
    version = import_file(write_lines(tmp_path / "sg.jsonl", lines), name="sg", root=root)
    assert version.manifest["lineage"]["parameters"] == {"format": "sharegpt"}
    plain = import_file(write_lines(tmp_path / "plain.jsonl", RECORDS), name="plain", root=root)
    assert plain.manifest["lineage"]["parameters"] == {"format": "jsonl"}
