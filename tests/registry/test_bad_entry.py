"""One damaged manifest or one foreign folder is reported and skipped: the rest of the registry stays readable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import registry
from registry.browse import list_summary
from registry.cli import registry as registry_group
from registry.verify import verify

from .conftest import make_frame


@pytest.fixture
def damaged(root) -> str:
    """notes@1 (manifest cut short), notes@2 and other@1 intact, and `datasets/base copy` beside them."""
    registry.commit(make_frame(10), name="notes", lineage={}, root=root)
    registry.commit(make_frame(12), name="notes", lineage={}, parents=["notes@1"], root=root)
    registry.commit(make_frame(5, tag="x"), name="other", lineage={}, root=root)
    datasets = Path(root) / "datasets"
    manifest = datasets / "notes" / "versions" / "00000001.json"
    manifest.write_bytes(manifest.read_bytes()[:150])
    shutil.copytree(datasets / "other", datasets / "base copy")
    return root


def test_list_skips_and_names_the_bad_entries(damaged):
    skipped: list[str] = []
    summary = list_summary(root=damaged, skipped=skipped)
    assert [(d["name"], [v["number"] for v in d["versions"]]) for d in summary] == [("notes", [2]), ("other", [1])]
    assert len(skipped) == 2
    assert "base copy: not a dataset" in skipped[0] and skipped[1].startswith("notes@1: ")
    assert "00000001.json: corrupt JSON" in skipped[1]
    done = CliRunner().invoke(registry_group, ["--registry", damaged, "list", "--json"])
    assert done.exit_code == 0, done.output
    assert [d["name"] for d in json.loads(done.stdout)] == ["notes", "other"]
    assert "warning: skipped" in done.stderr and "base copy" in done.stderr


def test_verify_reports_both_and_checks_the_rest(damaged):
    report = verify(root=damaged)
    assert not report.ok
    assert sorted(p.version for p in report.problems) == ["<registry>", "notes@1"]
    assert report.versions == ["notes@1", "notes@2", "other@1"]
    done = CliRunner().invoke(registry_group, ["--registry", damaged, "verify"])
    assert done.exit_code == 1 and "FAILED: 3 version(s) checked, 2 problem(s)" in done.stdout
    assert "base copy" in done.stderr


def test_the_intact_versions_still_open(damaged):
    assert registry.open("notes@2", root=damaged).height == 12
    assert registry.open("other", root=damaged).height == 5
