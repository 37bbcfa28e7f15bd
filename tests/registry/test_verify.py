"""`verify` rehashes shards and rows and names every missing or altered file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

import registry
from registry.verify import verify

from .conftest import make_frame


def shard_path(root: str, version) -> Path:
    return Path(root) / version.manifest["shards"][0]["path"]


def test_clean_registry_verifies(root, frame):
    registry.commit(frame, name="notes", lineage={}, root=root)
    report = verify(root=root)
    assert report.ok and report.versions == ["notes@1"]


def test_tampered_shard_is_named(root, frame):
    v = registry.commit(frame, name="notes", lineage={}, root=root)
    path = shard_path(root, v)
    tampered = pl.read_parquet(path).with_columns(pl.col("output").str.replace("topic 5", "topic 6"))
    tampered.write_parquet(path)
    report = verify("notes@1", root=root)
    assert not report.ok
    assert [(p.path, p.problem.split()[0]) for p in report.problems] == [(str(path), "altered")]


def test_missing_shard_and_layout_are_named(root):
    v = registry.commit(make_frame(30), name="notes", lineage={}, root=root)
    w = registry.commit(make_frame(40, start=1000), name="other", lineage={}, root=root)
    shard_path(root, v).unlink()
    layout = Path(root) / w.manifest["layout"]["path"]
    layout.unlink()
    problems = {(p.version, p.path, p.problem) for p in verify(root=root).problems}
    assert problems == {("notes@1", str(shard_path(root, v)), "missing"), ("other@1", str(layout), "missing")}


def test_shared_shard_damage_reported_for_every_version_using_it(root):
    base = make_frame(200)
    v1 = registry.commit(base, name="notes", lineage={}, root=root)
    registry.commit(base.head(150), name="notes", lineage={}, parents=[v1.ref], root=root)
    shard_path(root, v1).write_bytes(b"not parquet")
    report = verify("notes", root=root)
    assert sorted(p.version for p in report.problems) == ["notes@1", "notes@2"]
    assert all(p.problem.startswith("unreadable") for p in report.problems)
