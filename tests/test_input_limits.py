"""Every file the commands read is read within $SELFINSTRUCT_MAX_INPUT_BYTES: a device such as
/dev/zero is refused before any byte is read, a file or pipe over the limit is refused with one
line naming it and the limit (exit 2), and nothing is sent or written."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from commands.main import cli
from records.errors import InputError
from records.files import DEFAULT_MAX_INPUT_BYTES, MAX_INPUT_ENV, max_input_bytes, read_bytes_bounded, read_text_utf8

LIMIT = 300
RECORD = {"instruction": "Name a river in Africa.", "input": "", "output": "The Nile.", "generator": "m"}


def records_file(path, n: int):
    path.write_text("\n".join(json.dumps({**RECORD, "instruction": f"Name river number {i}."}) for i in range(n)) + "\n")
    return path


def test_the_default_limit_holds_alpaca_and_a_million_records():
    assert DEFAULT_MAX_INPUT_BYTES >= 1_000_000 * 2000 > 22 * 10**6


@pytest.mark.parametrize("raw, limit", [("", DEFAULT_MAX_INPUT_BYTES), ("1000", 1000), ("4G", 4 << 30),
                                        ("500MiB", 500 << 20), ("64kb", 64 << 10)])
def test_the_limit_comes_from_the_environment(monkeypatch, raw, limit):
    monkeypatch.setenv(MAX_INPUT_ENV, raw)
    assert max_input_bytes() == limit


@pytest.mark.parametrize("raw", ["lots", "0", "-5", "1.5G"])
def test_a_bad_limit_is_named(monkeypatch, raw):
    monkeypatch.setenv(MAX_INPUT_ENV, raw)
    with pytest.raises(InputError, match=MAX_INPUT_ENV):
        max_input_bytes()


def test_a_file_at_the_limit_is_read_and_one_byte_more_is_refused(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"a" * 100)
    assert read_bytes_bounded(path, limit=100) == b"a" * 100
    with pytest.raises(InputError) as info:
        read_bytes_bounded(path, limit=99)
    assert str(info.value) == f"{path}: is 100 B, over the input limit of 99 B; set {MAX_INPUT_ENV} to raise it"


def test_dev_zero_is_refused_before_reading():
    with pytest.raises(InputError, match="^/dev/zero: is a device"):
        read_bytes_bounded("/dev/zero", limit=1 << 40)  # were it read, the limit would never be reached


def test_a_pipe_is_read_up_to_the_limit_and_no_further():
    r, w = os.pipe()
    os.write(w, b"x" * 1000)
    os.close(w)
    try:
        with pytest.raises(InputError, match="holds more than 100 B, over the input limit of 100 B"):
            read_bytes_bounded(f"/dev/fd/{r}", limit=100)
        assert len(os.read(r, 2000)) == 1000 - 101  # the reader stopped one byte past the limit
    finally:
        os.close(r)


def test_a_pipe_within_the_limit_is_read_whole():
    r, w = os.pipe()
    os.write(w, json.dumps(RECORD).encode())
    os.close(w)
    try:
        assert json.loads(read_text_utf8(f"/dev/fd/{r}")) == RECORD
    finally:
        os.close(r)


def commands(tmp_path, target: str) -> dict[str, list[str]]:
    small = str(records_file(tmp_path / "small.jsonl", 1))
    out = str(tmp_path / "out")
    return {
        "eval judge --a": ["eval", "judge", "--a", target, "--b", small, "--judge-model", "j", "-o", out],
        "registry import": ["registry", "--registry", str(tmp_path / "reg"), "import", target, "--name", "big"],
        "dedup": ["dedup", target, "-o", out + ".jsonl"],
        "generate --seeds": ["generate", "-n", "5", "--model", "m", "--seeds", target, "-o", out + ".jsonl"],
        "generate --seeds --dry-run": ["generate", "-n", "5", "--model", "m", "--seeds", target, "--dry-run"],
    }


COMMANDS = ("eval judge --a", "registry import", "dedup", "generate --seeds", "generate --seeds --dry-run")


def refused(result, command, *needles):
    lines = [x for x in result.output.splitlines() if x.strip()]
    # `generate --dry-run` reports any error while planning as a failure (1), not as bad input (2)
    assert result.exit_code in ((1, 2) if "--dry-run" in command else (2,)), result.output
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert all(n in lines[0] for n in needles), lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_input_over_the_limit_is_refused_in_one_line(tmp_path, command):
    big = str(records_file(tmp_path / "big.jsonl", 10))  # about 900 bytes; the limit is 300
    env = {MAX_INPUT_ENV: str(LIMIT), "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = CliRunner().invoke(cli, commands(tmp_path, big)[command], env=env)
    refused(result, command, big, "over the input limit of 300 B", MAX_INPUT_ENV)
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.jsonl").exists()
    assert not (tmp_path / "reg").exists() or not any((tmp_path / "reg").rglob("*.parquet"))


@pytest.mark.parametrize("command", COMMANDS)
def test_dev_zero_is_refused_in_one_line(tmp_path, command):
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    result = CliRunner().invoke(cli, commands(tmp_path, "/dev/zero")[command], env=env)
    refused(result, command, "/dev/zero", "is a device")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_over_the_limit_is_refused_by_its_size(tmp_path, monkeypatch, suffix):
    import polars as pl

    from registry.importing import import_file

    path = tmp_path / f"big{suffix}"
    frame = pl.DataFrame({"instruction": [f"Name river number {i}." for i in range(200)], "input": [""] * 200,
                          "output": ["The Nile."] * 200})
    frame.write_csv(path) if suffix == ".csv" else frame.write_parquet(path)
    monkeypatch.setenv(MAX_INPUT_ENV, str(path.stat().st_size - 1))
    with pytest.raises(InputError, match="over the input limit"):
        import_file(path, name="big", root=str(tmp_path / "reg"))
    monkeypatch.setenv(MAX_INPUT_ENV, str(path.stat().st_size))
    assert import_file(path, name="big", root=str(tmp_path / "reg")).rows == 200


def loaders():
    from curation.judge_scores import load_rubric
    from evaluation.outputs import read_model_outputs
    from evaluation.sets import load_file
    from evaluation.verdicts import load_judge_template
    from modelcalls.pricing import load_pricing
    from selfinstruct.prompts import load_template
    from selfinstruct.seeds import load_seeds

    return [read_model_outputs, load_file, load_judge_template, load_pricing, load_template, load_seeds, load_rubric]


@pytest.mark.parametrize("load", loaders(), ids=lambda f: f.__name__)
def test_every_reader_refuses_dev_zero(load):
    with pytest.raises(InputError, match="^/dev/zero: is a device"):
        load("/dev/zero")


def test_a_pipe_is_refused_by_registry_import_whose_lineage_hashes_the_file(tmp_path):
    r, w = os.pipe()
    os.write(w, json.dumps([RECORD]).encode())
    os.close(w)
    try:
        result = CliRunner().invoke(cli, ["registry", "--registry", str(tmp_path / "reg"), "import", f"/dev/fd/{r}",
                                          "--name", "piped"])
    finally:
        os.close(r)
    refused(result, "registry import", f"/dev/fd/{r}: is not a regular file (a pipe?)", "save it to a file first")


def test_a_json_list_piped_into_read_frame_is_read_whole():
    from records.files import read_frame

    rows = [{**RECORD, "instruction": f"Name river number {i}."} for i in range(3)]
    r, w = os.pipe()
    os.write(w, json.dumps(rows, indent=2).encode())
    os.close(w)
    try:
        frame = read_frame(f"/dev/fd/{r}")  # not peeked into to guess the format: what is read is gone
    finally:
        os.close(r)
    assert frame.get_column("instruction").to_list() == [row["instruction"] for row in rows]


def test_a_recipe_or_template_file_that_is_a_device_is_refused(tmp_path):
    from finetune.config import load_config
    from finetune.templates import load_template as load_prompt_template

    for name, load in (("recipe.yaml", lambda p: load_config(p)), ("template.yaml", load_prompt_template)):
        link = tmp_path / name
        link.symlink_to("/dev/zero")
        with pytest.raises(InputError, match="is a device"):
            load(str(link))
