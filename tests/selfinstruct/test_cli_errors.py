"""Errors a user meets at the command line: one line naming the path at fault, exit 2, checked
before any request is sent."""

import json
import os

import pytest
from click.testing import CliRunner

from commands.main import cli
from tests.loopback_server import LoopbackServer


def generate(server, test_data, *args, env=None):
    return CliRunner().invoke(cli, ["generate", "-n", "5", "--model", "m", "-q", "--seeds",
                                    str(test_data / "seeds_tiny.jsonl"), *args],
                              env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.url, **(env or {})})


def one_line_error(result, *needles):
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error") and "Traceback" not in result.output, result.output
    assert all(n in lines[0] for n in needles), lines[0]


@pytest.mark.parametrize("where", ["afile/x.jsonl", "/proc/x.jsonl", "x.txt"])
def test_unusable_output_is_refused_before_any_request(test_data, tmp_path, where):
    (tmp_path / "afile").write_text("a file, not a folder")
    target = where if where.startswith("/") else str(tmp_path / where)
    with LoopbackServer() as server:
        r = generate(server, test_data, "-o", target, "--run-dir", str(tmp_path / "run"))
        assert server.requests == []
    one_line_error(r, target)


def test_unwritable_run_dir_and_read_only_folder_are_refused(test_data, tmp_path):
    with LoopbackServer() as server:
        r = generate(server, test_data, "-o", str(tmp_path / "o.jsonl"), "--run-dir", "/proc/x.run")
        one_line_error(r, "/proc/x.run")
        if os.geteuid() != 0:  # root writes into read-only folders
            ro = tmp_path / "ro"
            ro.mkdir(mode=0o555)
            one_line_error(generate(server, test_data, "-o", str(ro / "o.jsonl")), str(ro / "o.jsonl"))
        assert server.requests == []


def test_prompt_file_without_num_tasks_is_refused_before_any_request(test_data, tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text("Write some tasks.\n")
    with LoopbackServer() as server:
        r = generate(server, test_data, "-o", str(tmp_path / "o.jsonl"), "--prompt-file", str(prompt))
        assert server.requests == []
    one_line_error(r, str(prompt), "{num_tasks}")


def test_dataset_name_is_checked_first_and_alone_is_enough(test_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    reg = str(tmp_path / "reg")
    with LoopbackServer() as server:
        bad = generate(server, test_data, "--dataset", "bad name/..", "--registry", reg)
        assert server.requests == []
        one_line_error(bad, "bad name/..")
        ok = generate(server, test_data, "--dataset", "mine", "--registry", reg, "--json")
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.output)
    assert summary["dataset"] == "mine@1" and summary["output"] is None and summary["records"] == 5
    assert (tmp_path / "mine.run" / "journal.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []  # no output file unless asked


def test_summary_reports_what_was_written_and_the_surplus(test_data, tmp_path):
    with LoopbackServer(tasks_per_reply=12, diverse=True) as server:
        r = generate(server, test_data, "-o", str(tmp_path / "o.jsonl"), "-n", "3", "--concurrency", "1")
    assert r.exit_code == 0, r.output
    kept = len((tmp_path / "o.run" / "kept.jsonl").read_text().splitlines())
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 3 and kept > 3
    assert f"wrote 3 records" in r.output and f"{kept - 3} more passed the filters (surplus" in r.output
    assert f"kept {kept}" not in r.output


def test_dedup_rejects_bad_thresholds_and_outputs_and_prints_a_summary(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"instruction": "Name a river.", "output": "Nile"}\n'
                   '{"instruction": "Name a river please.", "output": "Nile"}\n')
    run = CliRunner().invoke
    for bad in (["--rouge-threshold", "2"], ["--minhash-threshold", "-1"]):
        r = run(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl"), *bad])
        assert r.exit_code == 2 and "must be in (0, 1]" in r.output and "Traceback" not in r.output
    (tmp_path / "afile").write_text("")
    one_line_error(run(cli, ["dedup", str(src), "-o", str(tmp_path / "afile" / "o.jsonl")]), "afile")
    r = run(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 0 and r.output.splitlines() == [f"kept 1 of 2 records -> {tmp_path / 'o.jsonl'}",
                                                          "dropped: 1 rouge duplicate"]


def test_tiny_model_refuses_an_unwritable_folder(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "Name a river.", "output": "Nile"}\n')
    (tmp_path / "afile").write_text("")
    r = CliRunner().invoke(cli, ["finetune", "tiny-model", str(tmp_path / "afile" / "m"), "--dataset", str(data)])
    one_line_error(r, str(tmp_path / "afile" / "m"))


@pytest.mark.parametrize("content, needle", [
    (b'{"instruction": "Name a river.", "input": "", "output": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
     "nested too deeply"),
    (b'{"instruction": "Name a \\ud800 river.", "input": "", "output": "Nile"}\n', "lone surrogate"),
])
def test_malformed_seed_files_name_the_file(test_data, tmp_path, content, needle):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_bytes(content)
    with LoopbackServer() as server:
        r = CliRunner().invoke(cli, ["generate", "-n", "5", "--model", "m", "-q", "--seeds", str(seeds),
                                     "-o", str(tmp_path / "o.jsonl")],
                               env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.url})
        assert server.requests == []
    one_line_error(r, f"{seeds}:1", needle)


def test_a_file_that_is_not_parquet_is_named(tmp_path):
    from finetune.dataset import load_records
    from records.errors import InputError as ImportFormatError
    from records.files import read_frame as read_records

    fake = tmp_path / "d.parquet"
    fake.write_text('{"instruction": "Name a river.", "output": "Nile"}\n')
    with pytest.raises(ValueError, match=r"d\.parquet: is not a readable Parquet file"):
        load_records(str(fake))
    with pytest.raises(ImportFormatError, match=r"d\.parquet: is not a readable Parquet file"):
        read_records(fake)
