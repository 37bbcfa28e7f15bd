"""A commit appears whole or not at all, and concurrent committers both land."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import registry
from registry.verify import verify

REPO = Path(__file__).resolve().parents[2]

COMMITTER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
import polars as pl
import registry
root, name, tag, go, rows, shard_rows, repeats = sys.argv[1:8]
while not Path(go).exists():
    time.sleep(0.005)
for k in range(int(repeats)):
    n = int(rows)
    frame = pl.DataFrame({{
        "instruction": [f"Task {{i}} from {{tag}} round {{k}}" for i in range(n)],
        "input": ["" for _ in range(n)],
        "output": [f"Answer {{i}} " * 5 for i in range(n)],
    }})
    v = registry.commit(frame, name=name, lineage={{"operation": "import", "tag": tag}}, root=root,
                        shard_rows=int(shard_rows))
    print(v.ref, flush=True)
"""


def start(tmp_path, root, name, tag, go, rows, shard_rows, repeats=1):
    script = tmp_path / "committer.py"
    script.write_text(COMMITTER.format(repo=str(REPO)))
    return subprocess.Popen([sys.executable, str(script), root, name, tag, str(go), str(rows), str(shard_rows),
                             str(repeats)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_during_commit_leaves_no_half_version(tmp_path, root):
    go = tmp_path / "go"
    go.touch()
    proc = start(tmp_path, root, "big", "killed", go, rows=200_000, shard_rows=2_000)
    objects = Path(root) / "objects"
    deadline = time.time() + 60
    while time.time() < deadline and not any(objects.glob("*/*.parquet")):
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert any(objects.glob("*/*.parquet")), "the commit was killed before writing any shard"
    assert registry.list_versions("big", root=root) == []
    report = verify(root=root)
    assert report.ok, report.to_json()
    # The orphaned shards are garbage that gc (with no grace period) removes.
    from registry.gc import gc

    orphans = gc(root=root, grace_s=0).objects
    assert orphans and all(o.startswith("objects/") for o in orphans)
    gc(root=root, grace_s=0, dry_run=False)
    assert not any(objects.glob("*/*.parquet"))
    # The registry still takes commits, and the survivor is number 1.
    from .conftest import make_frame

    assert registry.commit(make_frame(10), name="big", lineage={}, root=root).number == 1
    assert verify(root=root).ok


def test_two_concurrent_committers_both_land_with_distinct_numbers(tmp_path, root):
    go = tmp_path / "go"
    procs = [start(tmp_path, root, "shared", tag, go, rows=300, shard_rows=100, repeats=4) for tag in ("a", "b")]
    time.sleep(1.0)  # both interpreters up and waiting
    go.touch()
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outputs.extend(out.split())
    versions = registry.list_versions("shared", root=root)
    assert sorted(outputs) == sorted(v.ref for v in versions)
    assert [v.number for v in versions] == list(range(1, 9))
    tags = sorted(v.manifest["lineage"]["tag"] for v in versions)
    assert tags == ["a"] * 4 + ["b"] * 4
    for v in versions:  # nothing lost or mixed: each version holds its own committer's rows
        frame = registry.open(v.ref, root=root)
        assert frame.height == 300
        assert frame["instruction"].str.contains(f"from {v.manifest['lineage']['tag']} ").all()
    assert verify(root=root).ok
