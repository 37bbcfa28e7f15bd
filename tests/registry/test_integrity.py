"""Integrity: sealed manifests and alias events, object paths inside the root, rows checked on every read."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from registry.cli import registry as registry_group
from registry.errors import CorruptError
from registry.manifest import sealed
from registry.verify import verify

from .conftest import make_frame


def manifest_file(root: str, name: str, number: int) -> Path:
    return Path(root) / "datasets" / name / "versions" / f"{number:08d}.json"


def edit_manifest(root, name, number, change, *, reseal=False) -> Path:
    path = manifest_file(root, name, number)
    m = json.loads(path.read_text())
    change(m)
    path.write_text(json.dumps(sealed(m) if reseal else m))
    return path


def cli(root, *args):
    return CliRunner().invoke(registry_group, ["--registry", root, *args])


@pytest.fixture
def two_versions(root):
    v1 = registry.commit(make_frame(30), name="notes", lineage={"operation": "import", "licence": "cc-by-nc-4.0"},
                         root=root)
    registry.commit(make_frame(20), name="notes", lineage={"operation": "sample"}, parents=[v1.ref], root=root)
    return root


@pytest.mark.parametrize("change", [
    lambda m: m["lineage"].update(licence="apache-2.0"),
    lambda m: m["lineage"].update(operation="generate"),
    lambda m: m["parents"].clear(),
    lambda m: m["parents"][0].update(ref="notes@9"),
])
def test_edited_lineage_licence_or_parents_fail_verify_and_reads(two_versions, change):
    root = two_versions
    path = edit_manifest(root, "notes", 2, change)
    report = verify(root=root)
    assert [(p.version, p.path) for p in report.problems] == [("notes@2", str(path))]
    assert "seal" in report.problems[0].problem
    with pytest.raises(CorruptError, match=str(path)):
        registry.open("notes@2", root=root)
    result = cli(root, "show", "notes@2")
    assert result.exit_code == 2 and str(path) in result.output and "Traceback" not in result.output


def test_resealed_parent_with_wrong_hash_is_named(two_versions):
    root = two_versions
    edit_manifest(root, "notes", 2, lambda m: m["parents"][0].update(hash="0" * 64), reseal=True)
    problems = [p.problem for p in verify(root=root).problems]
    assert problems == [f"parent notes@1 has hash {registry.resolve('notes@1', root=root).hash[:12]}, "
                        "the manifest records 000000000000"]


@pytest.mark.parametrize("bad", ["/etc/passwd", "../../../../etc/passwd", "objects/../../secret.parquet"])
def test_object_paths_outside_the_root_are_refused_everywhere(two_versions, bad, tmp_path):
    root = two_versions
    # An attacker who can edit the manifest can also recompute its seal: the path check must hold alone.
    path = edit_manifest(root, "notes", 1, lambda m: m["shards"][0].update(path=bad), reseal=True)
    with pytest.raises(CorruptError, match="refusing object path"):
        registry.open("notes@1", root=root)
    report = verify(root=root)
    assert [(p.version, p.path) for p in report.problems] == [("notes@1", str(path))]
    for args in (["show", "notes@1"], ["export", "notes@1", "--format", "jsonl", "--output", str(tmp_path / "x")],
                 ["datasheet", "notes@1"]):
        result = cli(root, *args)
        assert result.exit_code == 2 and "refusing object path" in result.output, (args, result.output)
        assert "root:" not in result.output  # nothing of /etc/passwd was read or printed
    listed = cli(root, "list")  # the damaged version is named and skipped; the others are listed
    assert listed.exit_code == 0 and "warning: skipped notes@1: " in listed.output
    assert "refusing object path" in listed.output and "root:" not in listed.output
    layout_bad = edit_manifest(root, "notes", 2, lambda m: m["layout"].update(path=bad), reseal=True)
    assert any(p.path == str(layout_bad) for p in verify(root=root).problems)


def test_rows_that_do_not_match_the_hash_are_refused(root, tmp_path):
    v = registry.commit(make_frame(30), name="notes", lineage={}, root=root)
    shard = Path(root) / v.manifest["shards"][0]["path"]
    pl.read_parquet(shard).with_columns(pl.col("output").str.replace("topic 5", "topic 6")).write_parquet(shard)
    with pytest.raises(CorruptError, match="do not hash to the version hash"):
        registry.open("notes@1", root=root)
    out = tmp_path / "out.jsonl"
    for args in (["show", "notes@1"], ["export", "notes@1", "--format", "jsonl", "--output", str(out)]):
        result = cli(root, *args)
        assert result.exit_code == 2 and "notes@1" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_corrupt_manifest_and_alias_json_name_the_file(two_versions):
    root = two_versions
    registry.set_alias("notes@1", "stable", root=root)
    alias = Path(root) / "datasets" / "notes" / "aliases" / "00000001.json"
    alias.write_text('{"seq": 1, "alias": "stable", "vers')
    result = cli(root, "show", "notes@stable")
    assert result.exit_code == 2 and str(alias) in result.output and "corrupt JSON" in result.output
    assert any(str(alias) in p.problem for p in verify(root=root).problems)
    alias.write_bytes(b"\xff\xfe not utf-8")
    assert cli(root, "show", "notes@stable").exit_code == 2
    manifest = manifest_file(root, "notes", 2)
    manifest.write_text("[1, 2")
    result = cli(root, "show", "notes@2")
    assert result.exit_code == 2 and str(manifest) in result.output and "Traceback" not in result.output
    result = cli(root, "verify")
    assert result.exit_code == 1 and str(manifest) in result.output


def test_edited_alias_event_and_dangling_alias_fail_verify(two_versions):
    root = two_versions
    registry.set_alias("notes@1", "stable", root=root)
    assert verify(root=root).ok
    path = Path(root) / "datasets" / "notes" / "aliases" / "00000001.json"
    event = json.loads(path.read_text())
    path.write_text(json.dumps({**event, "version": 2}))
    assert any("seal" in p.problem for p in verify(root=root).problems)
    path.write_text(json.dumps(sealed({**event, "version": 7})))
    assert [p.problem for p in verify(root=root).problems] == ["alias points at version 7, which does not exist"]


def test_manifests_written_before_sealing_still_open_and_verify(root):
    v = registry.commit(make_frame(25), name="old", lineage={"operation": "import"}, root=root)

    def to_format_1(m):
        m.pop("seal")
        m["format"] = "selfinstruct-registry/1"

    edit_manifest(root, "old", 1, to_format_1)
    assert registry.open("old@1", root=root).equals(make_frame(25))
    report = verify(root=root)
    assert report.ok and report.unsealed == ["old@1"]
    assert registry.resolve("old@1", root=root).hash == v.hash
