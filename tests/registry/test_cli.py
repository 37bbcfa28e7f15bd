"""The `selfinstruct registry` commands: --json shapes, errors, tags, gc, hf export."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from registry.cli import registry as registry_group

from .conftest import make_frame


@pytest.fixture
def cli(root):
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(registry_group, ["--registry", root, *args])
        assert (result.exit_code == 0) == ok, result.output
        return json.loads(result.output) if "--json" in args and ok else result.output

    return run


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.jsonl"
    make_frame(40).write_ndjson(path)
    return path


def test_import_show_list_log_json(cli, data_file):
    imported = cli("import", str(data_file), "--name", "notes", "--licence", "cc-by-4.0", "--json")
    assert imported["ref"] == "notes@1" and imported["rows"] == 40
    cli("sample", "notes@1", "-n", "10", "--into", "notes", "--json")
    shown = cli("show", "notes@2", "--json")
    assert shown["rows"] == 10 and shown["parents"] == ["notes@1"] and len(shown["hash"]) == 64
    assert shown["lineage"]["operation"] == "sample" and len(shown["sample"]) == 3
    listed = cli("list", "--json")
    assert [(d["name"], [v["rows"] for v in d["versions"]]) for d in listed] == [("notes", [40, 10])]
    cli("tag", "notes@1", "stable")
    cli("tag", "notes@2", "stable")
    log = cli("log", "notes", "--json")
    moves = [(e["alias"], e["ref"], e["previous"]) for e in log if e["kind"] == "alias"]
    assert moves == [("stable", "notes@1", None), ("stable", "notes@2", 1)]
    assert "notes" in cli("list")


def test_diff_json_has_counts(cli, data_file, tmp_path):
    cli("import", str(data_file), "--name", "notes")
    smaller = tmp_path / "smaller.jsonl"
    make_frame(40).head(35).write_ndjson(smaller)
    cli("import", str(smaller), "--name", "notes", "--parent", "notes@1")
    d = cli("diff", "notes@1", "notes@2", "--json")
    assert (d["added"], d["removed"], d["changed"]) == (0, 5, 0)


def test_errors_are_one_line_with_closest_names(cli, data_file):
    cli("import", str(data_file), "--name", "notes")
    out = cli("show", "nootes", ok=False)
    assert "closest: notes" in out and "Traceback" not in out
    assert "invalid dataset name" in cli("import", str(data_file), "--name", "../escape", ok=False)


def test_verify_fails_with_status_and_names_file(cli, data_file, root):
    from pathlib import Path

    v = cli("import", str(data_file), "--name", "notes", "--json")
    assert cli("verify", "--json")["ok"] is True
    shard = next(Path(root).glob("objects/*/*[0-9a-f].parquet"))
    shard.write_bytes(b"junk")
    out = cli("verify", ok=False)
    assert str(shard) in out and v["ref"] in out


def test_gc_never_collects_a_tagged_version(cli, data_file, tmp_path):
    for n in (40, 30, 20):
        path = tmp_path / f"d{n}.jsonl"
        make_frame(n, tag=f"-{n}").write_ndjson(path)
        cli("import", str(path), "--name", "notes")
    cli("tag", "notes@1", "stable")
    plan = cli("gc", "--keep-last", "1", "--grace", "0", "--json")
    assert plan["versions"] == ["notes@2"] and plan["kept_for_alias"] == ["notes@1"] and plan["dry_run"]
    cli("gc", "--keep-last", "1", "--grace", "0", "--no-dry-run")
    assert [v["number"] for v in cli("list", "--json")[0]["versions"]] == [1, 3]
    assert cli("verify", "--json")["ok"]
    assert cli("show", "notes@stable", "--json")["rows"] == 40
    path = tmp_path / "d5.jsonl"
    make_frame(5).write_ndjson(path)
    assert cli("import", str(path), "--name", "notes", "--json")["ref"] == "notes@4"  # numbers never reused


def test_datasheet_set_and_html(cli, data_file, tmp_path):
    cli("import", str(data_file), "--name", "notes")
    cli("datasheet", "notes@1", "--set", "motivation=Teaching example.")
    html = tmp_path / "sheet.html"
    out = cli("datasheet", "notes@1", "--html", str(html), "--json")
    assert "Teaching example." in out["markdown"] and html.read_text().count("<svg") == 2
    assert "unknown datasheet section" in cli("datasheet", "notes@1", "--set", "colour=blue", ok=False)


def test_export_hf_loads_with_datasets(cli, data_file, tmp_path):
    datasets = pytest.importorskip("datasets", reason="the `datasets` library is a dev-only dependency")
    cli("import", str(data_file), "--name", "notes", "--licence", "cc-by-4.0")
    out = tmp_path / "hf"
    cli("export", "notes@1", "--format", "hf", "--output", str(out))
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == 40 and loaded[0] == make_frame(40).row(0, named=True)
    readme = (out / "README.md").read_text()
    assert readme.startswith("---\n") and "license: cc-by-4.0" in readme


def test_datasheet_edit_in_editor(cli, data_file, tmp_path, monkeypatch):
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('## funding\\n', '## funding\\nA research grant.\\n'))\n")
    import sys

    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    cli("import", str(data_file), "--name", "notes")
    cli("datasheet", "notes@1", "--set", "contact=me@example.org")
    cli("datasheet", "notes@1", "--edit")
    md = cli("datasheet", "notes@1")
    assert "A research grant." in md and "me@example.org" in md


def test_tables_keep_brackets_and_long_values_whole():
    from rich.console import Console

    from registry.cli_common import rich_table

    def shown(value: str, width: int) -> str:  # one column, so its folded lines join back in order
        console = Console(width=width, record=True)
        console.print(rich_table(None, ["value"], [[value]]))
        lines = console.export_text().splitlines()[3:-1]  # the cell's lines, between header and bottom rule
        return "".join(line.strip().strip("│").strip() for line in lines)

    path = "/home/user/projects/alpaca/runs/alpaca-7b-cleaned-v2"
    assert shown(path, 20) == path  # folded over lines, not cut to "…"
    assert shown("[training failed] [b]bold?[/b]", 80) == "[training failed] [b]bold?[/b]"
