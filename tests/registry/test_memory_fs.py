"""The root is an fsspec URL: everything works on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid

import fsspec
import pytest

import registry
from registry.diff import diff
from registry.verify import verify

from .conftest import make_frame


@pytest.fixture
def mem_root():
    url = f"memory://registry-{uuid.uuid4().hex}"
    yield url
    fsspec.filesystem("memory").rm(url.removeprefix("memory://"), recursive=True)


def test_memory_root_commit_open_alias_verify_diff(mem_root):
    base = make_frame(80)
    v1 = registry.commit(base, name="notes", lineage={"operation": "import"}, root=mem_root)
    v2 = registry.commit(base.head(60), name="notes", lineage={"operation": "sample"}, parents=[v1.ref], root=mem_root)
    registry.set_alias(v1.ref, "stable", root=mem_root)
    registry.record_use(v2.ref, {"kind": "finetune", "model": "tiny"}, root=mem_root)
    assert registry.open("notes@stable", root=mem_root).equals(base)
    assert registry.open("notes@latest", root=mem_root).equals(base.head(60))
    assert v2.manifest["storage"]["bytes_added"] < v1.manifest["storage"]["bytes_added"]
    assert verify(root=mem_root).ok
    assert diff("notes@1", "notes@2", root=mem_root)["removed"] == 20
    assert [u["model"] for u in registry.list_uses(v2, root=mem_root)] == ["tiny"]
    fs = fsspec.filesystem("memory")
    assert fs.exists(mem_root.removeprefix("memory://") + "/datasets/notes/versions/00000002.json")


def test_memory_root_refuses_second_claim_of_a_number(mem_root):
    from registry.fs import open_store

    store = open_store(mem_root)
    assert store.put_if_absent(store.path("x.json"), b"1")
    assert not store.put_if_absent(store.path("x.json"), b"2")
    assert store.read_bytes(store.path("x.json")) == b"1"
