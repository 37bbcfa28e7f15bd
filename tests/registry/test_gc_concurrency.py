"""`registry gc` and commits in flight, as real processes synchronised by files (no sleeps, no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

import registry
from registry.fs import open_store
from registry.gc import gc
from registry.verify import verify

from .conftest import make_frame, wait_for

REPO = Path(__file__).resolve().parents[2]

# A child that runs `target` with `hook` paused at `point`: it touches READY, then waits for GO.
PAUSED = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
import importlib
import polars as pl
import registry
ready, go, module, point = sys.argv[1:5]
mod = importlib.import_module(module)
original = getattr(mod, point)
def paused(*args, **kwargs):
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.01)
    return original(*args, **kwargs)
setattr(mod, point, paused)
{body}
"""
COMMIT = ("frame = pl.read_ndjson(sys.argv[6])\n"
          "print(registry.commit(frame, name='notes', lineage={}, root=sys.argv[5], shard_rows=30).ref)")
GC = "from registry.gc import gc\nprint(gc(root=sys.argv[5], dry_run=False).objects)"


def child(tmp_path, tag, module, point, body, *args):
    script = tmp_path / f"{tag}.py"
    script.write_text(PAUSED.format(repo=str(REPO), body=body))
    ready, go = tmp_path / f"{tag}.ready", tmp_path / f"{tag}.go"
    proc = subprocess.Popen([sys.executable, str(script), str(ready), str(go), module, point, *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, ready, go


def stderr_line_with(proc, word: str) -> str:
    """The first stderr line of `proc` that contains `word` ('' when the process ends without one)."""
    for line in proc.stderr:
        if word in line:
            return line
    return ""


def orphaned_registry(root: str):
    """notes@1 (rows A) retired by gc, its objects older than the default grace period; notes@2 live."""
    a = make_frame(30)
    v1 = registry.commit(a, name="notes", lineage={}, root=root, shard_rows=30)
    registry.commit(make_frame(30, start=500), name="notes", lineage={}, root=root, shard_rows=30)
    assert gc(root=root, keep_last=1, dry_run=False).versions == ["notes@1"]
    old = time.time() - 7200
    paths = [Path(root) / s["path"] for s in v1.manifest["shards"]] + [Path(root) / v1.manifest["layout"]["path"]]
    for p in paths:
        os.utime(p, (old, old))
    return a, Path(root) / v1.manifest["shards"][0]["path"]


def test_gc_waits_for_a_commit_that_reuses_orphan_shards(tmp_path, root):
    a, orphan = orphaned_registry(root)
    superset = pl.concat([a, make_frame(30, start=900)])  # its first shard is exactly notes@1's shard
    data = tmp_path / "superset.jsonl"
    superset.write_ndjson(data)
    committer, ready, go = child(tmp_path, "commit", "registry.commit", "publish_manifest", COMMIT, root, data)
    wait_for(ready, committer)  # the commit has found the orphan shard and holds it, manifest not yet published
    collector = subprocess.Popen([sys.executable, "-m", "selfinstruct", "registry", "--registry", root, "gc",
                                  "--no-dry-run"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    notice = stderr_line_with(collector, "waiting")
    go.touch()
    out, err = committer.communicate(timeout=120)
    assert committer.returncode == 0, err
    gc_out, gc_err = collector.communicate(timeout=120)
    assert "commit(s) in flight" in notice, (notice, gc_out, gc_err)
    assert collector.returncode == 0, gc_err
    assert out.strip() == "notes@3" and orphan.exists()
    assert registry.open("notes@3", root=root).equals(superset)
    assert verify(root=root).ok


def test_commit_waits_for_a_running_gc_then_rewrites_what_it_removed(tmp_path, root):
    a, orphan = orphaned_registry(root)
    data = tmp_path / "a.jsonl"
    a.write_ndjson(data)
    collector, ready, go = child(tmp_path, "gc", "registry.gc", "_collect", GC, root)
    wait_for(ready, collector)  # gc holds its lock and is about to delete the orphans
    plain = "import sys\nimport polars as pl\nimport registry\n" + COMMIT.replace("argv[6]", "argv[2]").replace(
        "argv[5]", "argv[1]")
    committer = subprocess.Popen([sys.executable, "-c", plain, root, str(data)],
                                 cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
    notice = stderr_line_with(committer, "waiting")
    go.touch()
    gc_out, gc_err = collector.communicate(timeout=120)
    assert collector.returncode == 0, gc_err
    out, err = committer.communicate(timeout=120)
    assert committer.returncode == 0, err
    assert "waiting for registry gc" in notice
    assert str(orphan.relative_to(root)) in gc_out  # gc removed it, and the commit wrote it again
    assert out.strip() == "notes@3" and orphan.exists()
    assert registry.open("notes@3", root=root).equals(a)
    assert verify(root=root).ok


def test_gc_skips_a_temporary_file_that_vanishes_during_its_scan(root, monkeypatch):
    registry.commit(make_frame(10), name="notes", lineage={}, root=root)
    store = open_store(root)
    tmp = Path(root) / "datasets" / "notes" / "versions" / ".tmp-0123"
    tmp.write_text("partial")
    old = time.time() - 7200
    os.utime(tmp, (old, old))
    real_find = store.fs.find

    def find_then_rename(path, *args, **kwargs):
        found = real_find(path, *args, **kwargs)
        if tmp.exists() and any(str(p).endswith(".tmp-0123") for p in found):
            tmp.unlink()  # its writer renamed it between gc's listing and gc's look at it
        return found

    monkeypatch.setattr(store.fs, "find", find_then_rename)
    plan = gc(root=store, dry_run=False)
    assert plan.objects == [] and verify(root=root).ok


def test_gc_wait_0_gives_up_at_once_on_a_commit_in_flight(root):
    from click.testing import CliRunner

    from commands.main import cli
    from registry.leases import commit_lease
    from registry.versions import as_store

    with commit_lease(as_store(root)):  # this process is a committer that has not finished
        r = CliRunner().invoke(cli, ["registry", "--registry", root, "gc", "--no-dry-run", "--wait", "0"])
    assert r.exit_code == 2, r.output
    assert "gave up after 0 s waiting for a commit in flight" in r.output and "Traceback" not in r.output
