"""0-row versions work in every command; output paths are checked first and written whole."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from registry.errors import RegistryError
from commands.derive import registry as registry_group

from .conftest import make_frame


def cli(root, *args):
    result = CliRunner().invoke(registry_group, ["--registry", root, *args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def empty_root(root):
    registry.commit(make_frame(12), name="notes", lineage={"operation": "import"}, root=root)
    registry.commit(make_frame(12).head(0), name="none", lineage={"operation": "filter"}, parents=["notes@1"],
                    root=root)
    return root


def test_an_empty_version_keeps_its_schema(empty_root):
    frame = registry.open("none@1", root=empty_root)
    assert frame.height == 0 and frame.columns == ["instruction", "input", "output"]
    assert frame.schema["instruction"] == pl.String
    with pytest.raises(RegistryError, match="lacks required column"):
        registry.commit(pl.DataFrame(), name="bare", lineage={}, root=empty_root)


def test_every_command_handles_an_empty_version(empty_root, tmp_path):
    root = empty_root
    ok = [["show", "none@1"], ["show", "none@1", "--json"], ["datasheet", "none@1"],
          ["datasheet", "none@1", "--html", str(tmp_path / "sheet.html")], ["diff", "notes@1", "none@1", "--json"],
          ["diff", "none@1", "notes@1"], ["sample", "none@1", "-n", "0", "--into", "s"],
          ["filter", "none@1", "--into", "f"], ["dedup", "none@1", "--into", "d"],
          ["merge", "none@1", "notes@1", "--into", "m"], ["verify"]]
    for args in ok:
        result = cli(root, *args)
        assert result.exit_code == 0, (args, result.output)
    assert json.loads(cli(root, "diff", "notes@1", "none@1", "--json").output)["removed"] == 12
    assert "**0** instances" in cli(root, "datasheet", "none@1").output
    for fmt, name in (("jsonl", "x.jsonl"), ("alpaca-json", "x.json"), ("parquet", "x.parquet")):
        assert cli(root, "export", "none@1", "--format", fmt, "--output", str(tmp_path / name)).exit_code == 0
    assert (tmp_path / "x.jsonl").read_text() == "" and json.loads((tmp_path / "x.json").read_text()) == []
    assert pl.read_parquet(tmp_path / "x.parquet").columns == ["instruction", "input", "output"]
    result = cli(root, "export", "none@1", "--format", "hf", "--output", str(tmp_path / "hf"))
    assert result.exit_code == 2 and "no rows" in result.output and not (tmp_path / "hf").exists()


def test_a_failed_export_leaves_no_partial_folder(root, tmp_path, monkeypatch):
    registry.commit(make_frame(12), name="notes", lineage={}, root=root)

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", disk_full)
    out = tmp_path / "exports" / "hf"
    result = cli(root, "export", "notes@1", "--format", "hf", "--output", str(out))
    assert result.exit_code == 2 and "No space left" in result.output
    assert not out.exists() and list((tmp_path / "exports").iterdir()) == []


@pytest.mark.parametrize("target", ["afile/x.jsonl", "/proc/selfinstruct-x/out.jsonl"])
def test_unwritable_export_paths_are_refused_first(root, tmp_path, target, monkeypatch):
    registry.commit(make_frame(12), name="notes", lineage={}, root=root)
    (tmp_path / "afile").write_text("not a folder")
    out = str(tmp_path / target) if not target.startswith("/") else target

    def no_work(*args, **kwargs):
        raise AssertionError("rows were read before the output path was checked")

    monkeypatch.setattr("registry.export.open_version", no_work)
    result = cli(root, "export", "notes@1", "--format", "jsonl", "--output", out)
    assert result.exit_code == 2 and out in result.output and len(result.output.strip().splitlines()) == 1


def test_export_hf_never_replaces_a_foreign_folder(root, tmp_path):
    registry.commit(make_frame(12), name="notes", lineage={}, root=root)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    result = cli(root, "export", "notes@1", "--format", "hf", "--output", str(folder))
    assert result.exit_code == 2 and "holds other files" in result.output
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    out = tmp_path / "hf"
    assert cli(root, "export", "notes@1", "--format", "hf", "--output", str(out)).exit_code == 0
    assert cli(root, "export", "notes@1", "--format", "hf", "--output", str(out)).exit_code == 0  # re-export
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data"]


def test_datasheet_outputs_are_checked_before_rendering(root, tmp_path, monkeypatch):
    registry.commit(make_frame(12), name="notes", lineage={}, root=root)
    (tmp_path / "afile").write_text("x")

    def no_work(*args, **kwargs):
        raise AssertionError("facts were collected before the output path was checked")

    monkeypatch.setattr("registry.facts.collect_facts", no_work)
    for option in ("--html", "--output"):
        bad = str(tmp_path / "afile" / "sheet.out")
        result = cli(root, "datasheet", "notes@1", option, bad)
        assert result.exit_code == 2 and bad in result.output and "is a file" in result.output


def test_a_registry_root_that_is_a_file_is_refused(tmp_path, monkeypatch):
    afile = tmp_path / "registry-file"
    afile.write_text("x")
    data = tmp_path / "data.jsonl"
    make_frame(5).write_ndjson(data)

    def no_read(*args, **kwargs):
        raise AssertionError("the input file was read before the registry root was checked")

    monkeypatch.setattr("registry.importing.read_frame", no_read)
    for args in (["import", str(data), "--name", "notes"], ["list"], ["verify"], ["gc"]):
        result = cli(str(afile), *args)
        assert result.exit_code == 2 and f"registry root {afile} is a file" in result.output, (args, result.output)
    result = cli("/proc/selfinstruct-registry", "list")
    assert result.exit_code == 2 and "cannot be created" in result.output
    assert Path(afile).read_text() == "x"


@pytest.mark.parametrize("content, suffix", [("", ".jsonl"), ("[]\n", ".json")])
def test_importing_a_file_with_no_records_is_refused_unless_allowed(root, tmp_path, content, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_text(content)
    refused = cli(root, "import", str(path), "--name", "blank")
    assert refused.exit_code == 2, refused.output
    assert refused.output.strip().count("\n") == 0 and "no records" in refused.output and str(path) in refused.output
    allowed = cli(root, "import", str(path), "--name", "blank", "--allow-empty")
    assert allowed.exit_code == 0, allowed.output
    assert registry.open("blank@1", root=root).height == 0  # @1: the refused import committed nothing
