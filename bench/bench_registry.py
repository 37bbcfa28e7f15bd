"""Registry benchmark: Alpaca -> AlpacaDataCleaned commits, diff, show, verify, datasheet, 1M-row commit.

Run from the repository root:  PYTHONPATH=. python bench/bench_registry.py
Reads ../shared/data (never copies it) and prints its figures; exits with a message if absent.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
ALPACA = DATA / "alpaca_data.jsonl"
CLEANED = DATA / "alpaca_data_cleaned_2023-03-21.jsonl"

SYNTHETIC = """
import random, resource, sys, time
sys.path.insert(0, {repo!r})
import polars as pl
import registry
n = {rows}
t0 = time.perf_counter()
rng = random.Random(0)
token = lambda: f"{{rng.getrandbits(64):016x}}"  # random tokens keep zstd from flattering the figures
frame = pl.DataFrame({{
    "instruction": [f"Write a short paragraph about subject {{token()}} for a general audience." for i in range(n)],
    "input": [f"Context {{token()}}: some supporting text of moderate length." if i % 3 == 0 else ""
              for i in range(n)],
    "output": [f"Subject {{token()}} is interesting because " + "it has many aspects worth noting. " * (1 + i % 7)
               + token() for i in range(n)],
}})
t1 = time.perf_counter()
v = registry.commit(frame, name="synthetic", lineage={{"operation": "import"}}, root={root!r})
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{n}} {{t1 - t0:.2f}} {{t2 - t1:.2f}} {{rss:.0f}} {{v.manifest['storage']['bytes_added']}}")
"""


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    if not (ALPACA.exists() and CLEANED.exists()):
        sys.exit(f"bench_registry: shared data not found under {DATA}; nothing to measure")
    sys.path.insert(0, str(REPO))
    import registry
    from registry.browse import show
    from registry.datasheet import render_markdown
    from registry.diff import diff
    from registry.importing import import_file
    from registry.verify import verify

    root = tempfile.mkdtemp(prefix="bench-registry-")
    v1, t_import1 = timed(lambda: import_file(ALPACA, name="alpaca", root=root))
    v2, t_import2 = timed(lambda: import_file(CLEANED, name="alpaca", parents=[v1.ref], root=root))
    parent_bytes = v1.manifest["storage"]["bytes_added"]
    added = v2.manifest["storage"]["bytes_added"]
    print(f"import alpaca         {v1.rows:>9,} rows  {t_import1:6.2f} s  {parent_bytes:>11,} bytes stored")
    print(f"import cleaned (@2)   {v2.rows:>9,} rows  {t_import2:6.2f} s  {added:>11,} bytes added "
          f"({added / parent_bytes:.1%} of the parent; {v2.manifest['layout']['runs']:,} runs)")

    d, t_diff = timed(lambda: diff(v1.ref, v2.ref, root=root))
    print(f"diff @1 @2            {t_diff:6.2f} s  unchanged {d['unchanged']:,}  changed {d['changed']:,}  "
          f"added {d['added']:,}  removed {d['removed']:,}")
    print(f"  pairing stages      {d['pairing']}")
    print(f"  changed fields      {d['changed_fields']}")

    for ref in ("alpaca@2", "alpaca@latest"):
        _, t_show = timed(lambda: show(ref, root=root))
        print(f"show {ref:<16} {t_show * 1000:7.0f} ms")
    _, t_open = timed(lambda: registry.open("alpaca@2", root=root))
    print(f"open alpaca@2         {t_open * 1000:7.0f} ms")
    cli = [sys.executable, "-m", "selfinstruct", "registry", "--registry", root, "show", "alpaca@2", "--json"]
    _, t_cli = timed(lambda: subprocess.run(cli, cwd=REPO, capture_output=True, check=True,
                                            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}))
    print(f"`registry show` CLI   {t_cli * 1000:7.0f} ms (new process)")
    report, t_verify = timed(lambda: verify(root=root))
    print(f"verify (2 versions)   {t_verify:6.2f} s  ok={report.ok}")
    _, t_sheet = timed(lambda: render_markdown(registry.resolve("alpaca@2", root=root), root=root,
                                               seeds_path=DATA / "seed_tasks.jsonl"))
    print(f"datasheet alpaca@2    {t_sheet:6.2f} s (novelty on a 500-row sample)")

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    script = SYNTHETIC.format(repo=str(REPO), rows=rows, root=tempfile.mkdtemp(prefix="bench-registry-1m-"))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    n, t_make, t_commit, rss, stored = int(out[0]), float(out[1]), float(out[2]), float(out[3]), int(out[4])
    print(f"synthetic commit      {n:>9,} rows  {t_commit:6.2f} s  peak RSS {rss:,.0f} MiB (whole process, "
          f"incl. building the frame in {t_make:.1f} s)  {stored:,} bytes stored")


if __name__ == "__main__":
    main()
