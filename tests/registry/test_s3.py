"""The registry on S3 (an s3:// root through s3fs) against a real local S3 server (moto's standalone server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import fsspec
import polars as pl
import pytest

import registry
from registry.errors import StoreUnsupportedError
from registry.export import export
from registry.fs import Store, open_store
from registry.gc import gc
from registry.verify import verify

from .conftest import make_frame, wait_for

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
import polars as pl
import registry
c = sys.modules["registry.commit"]
root, tag, ready, go, pause = sys.argv[1:6]
if pause == "1":  # stop with shards and layout written, manifest not yet published
    def paused(*args):
        Path(ready).touch()
        while True:
            time.sleep(1)
    c.publish_manifest = paused
else:
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.01)
for k in range(1):
    n = 40
    frame = pl.DataFrame({{"instruction": [f"Task {{i}} from {{tag}} round {{k}}" for i in range(n)],
                          "input": [""] * n, "output": [f"Answer {{i}}" for i in range(n)]}})
    print(registry.commit(frame, name="shared", lineage={{"tag": tag}}, root=root, shard_rows=15).ref, flush=True)
"""


def start(tmp_path, root, tag, pause=False):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(repo=str(REPO)))
    ready, go = tmp_path / f"{tag}.ready", tmp_path / "go"
    proc = subprocess.Popen([sys.executable, str(script), root, tag, str(ready), str(go), "1" if pause else "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, ready, go


def test_commit_open_alias_verify_gc_export_on_s3(s3_root, tmp_path):
    base = make_frame(60)
    v1 = registry.commit(base, name="notes", lineage={"operation": "import"}, root=s3_root, shard_rows=25)
    v2 = registry.commit(base.head(40), name="notes", lineage={"operation": "sample"}, parents=[v1.ref],
                         root=s3_root)
    assert v2.manifest["storage"]["bytes_added"] < v1.manifest["storage"]["bytes_added"]  # shards reused
    registry.set_alias(v2.ref, "stable", root=s3_root)
    assert registry.open("notes@1", root=s3_root).equals(base)
    assert registry.open("notes@stable", root=s3_root).equals(base.head(40))
    assert verify(root=s3_root).ok
    out = export("notes@stable", "jsonl", tmp_path / "notes.jsonl", root=s3_root)
    assert pl.read_ndjson(out).equals(base.head(40))
    plan = gc(root=s3_root, keep_last=1, grace_s=0, dry_run=False)
    assert plan.versions == ["notes@1"] and plan.objects  # notes@1's last shard is unreferenced now
    assert registry.open("notes@2", root=s3_root).equals(base.head(40)) and verify(root=s3_root).ok
    assert [v.number for v in registry.list_versions("notes", root=s3_root)] == [2]


@pytest.mark.slow
def test_two_committers_land_and_a_killed_one_leaves_nothing_torn_on_s3(s3_root, tmp_path):
    """Two processes commit at once (a child, and this test's own process): both land with distinct
    numbers. A third process is killed with SIGKILL after writing its shards and layout, before its manifest."""
    child, child_ready, go = start(tmp_path, s3_root, "a")
    killed, killed_ready, _ = start(tmp_path, s3_root, "killed", pause=True)
    wait_for(child_ready, child)
    wait_for(killed_ready, killed)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    go.touch()
    n = 40
    mine = pl.DataFrame({"instruction": [f"Task {i} from b round 0" for i in range(n)], "input": [""] * n,
                         "output": [f"Answer {i}" for i in range(n)]})
    refs = [registry.commit(mine, name="shared", lineage={"tag": "b"}, root=s3_root, shard_rows=15).ref]
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    refs += out.split()
    versions = registry.list_versions("shared", root=s3_root)
    assert sorted(refs) == sorted(v.ref for v in versions) and [v.number for v in versions] == [1, 2]
    assert sorted(v.manifest["lineage"]["tag"] for v in versions) == ["a", "b"]  # nothing of the killed one
    for v in versions:  # each version holds its own committer's rows, nothing lost or mixed
        frame = registry.open(v.ref, root=s3_root)
        assert frame.height == 40 and frame["instruction"].str.contains(f"from {v.manifest['lineage']['tag']} ").all()
    assert verify(root=s3_root).ok
    store = open_store(s3_root)
    assert [n for n in store.listdir(store.path("locks")) if n.startswith("commit-")]  # the dead commit's lease
    orphans = gc(root=s3_root, grace_s=0, dry_run=False).objects  # it does not block gc, which removes it
    # The killed commit's three shards (15, 15 and 10 rows) and its rows' facts; its layout has the same
    # runs as a's and b's, so that object is shared and stays.
    shards = [o for o in orphans if o.endswith(".parquet")]
    assert len(shards) == 3 and not any(".layout." in o for o in shards)
    others = [o for o in orphans if o not in shards]
    assert len(others) == 1 and others[0].endswith(".facts-1.json")
    assert store.listdir(store.path("locks")) == []
    assert registry.commit(make_frame(5), name="shared", lineage={}, root=s3_root).number == 3
    assert verify(root=s3_root).ok


def test_a_store_that_ignores_conditional_writes_is_refused(s3_endpoint, tmp_path):
    s3fs = pytest.importorskip("s3fs")
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    bucket = "no-conditional-writes"
    fs.mkdir(bucket)
    # An S3-compatible server that ignores If-None-Match behaves as if the header never arrived.
    fs.s3.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: params.pop("IfNoneMatch", None))
    store = Store(fs=fs, root=f"{bucket}/registry", url=f"s3://{bucket}/registry")
    with pytest.raises(StoreUnsupportedError, match="ignores conditional writes"):
        registry.commit(make_frame(5), name="notes", lineage={}, root=store)
    assert fs.find(f"{bucket}/registry/objects") == []  # refused before any object was written
    # A filesystem with no atomic create at all is refused the same way; reading is not affected.
    dirfs = fsspec.filesystem("dir", path=str(tmp_path), fs=fsspec.filesystem("file"))
    with pytest.raises(StoreUnsupportedError, match="no atomic create-if-absent"):
        registry.commit(make_frame(5), name="notes", lineage={}, root=Store(fs=dirfs, root="reg", url="dir::reg"))
    assert json.dumps(registry.list_datasets(Store(fs=dirfs, root="reg", url="dir::reg"))) == "[]"
