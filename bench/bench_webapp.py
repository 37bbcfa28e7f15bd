"""Web app benchmark on Alpaca 52K: server time of a records page, a search, a diff page and a datasheet.

Run from the repository root:  PYTHONPATH=. python bench/bench_webapp.py [--reference DIR] [--rounds 3]
Imports ../shared/data's Alpaca file and, as its child, the cleaned release into a temp registry
(never copies the data anywhere else), starts `selfinstruct serve` on a free loopback port, and
reads each page's server time from its Server-Timing header.

1. Cold, each page in a fresh server: `selfinstruct serve` is started, and its first request (as soon
   as it answers at all, so start-up work still running counts) is the page; then, 3 s later (once
   what that page started in the background is done), the median of 5 more is warm; the time from
   spawning the server to its first answer is printed too. The OS file cache is warm (the registry was just written). With `--reference DIR`
   (another source tree, e.g. `git archive main | tar -x -C /tmp/ref`), each round imports and
   serves with that tree and with this one in turn, each into its own fresh registry, so both see
   the same load; the import time of the two files is printed too.
2. A version committed without stored facts (as by a release before they were stored): its first
   view ever (which computes and stores them) and its first view after a restart.
3. Every page in one server, in order: cold (the first request for that page; earlier pages may have
   built what it shares) and the median of 5 more.
Targets: the first records page < 150 ms cold, the datasheet < 500 ms cold, a page of 50 records
< 150 ms, a search < 1 s, a diff page < 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
ALPACA = DATA / "alpaca_data.jsonl"
CLEANED = DATA / "alpaca_data_cleaned_2023-03-21.jsonl"

COLD = [  # (label, path, target ms): each measured as the first request of a fresh server
    ("records page 1 of alpaca@1", "/v/alpaca@1/records", 150),
    ("datasheet of alpaca@1", "/v/alpaca@1/datasheet", 500),
]
PAGES = [  # (label, path, target ms)
    ("records page 1 (50 rows)", "/v/alpaca@1/records", 150),
    ("records page 500", "/v/alpaca@1/records?page=500", 150),
    ("records sorted by length", "/v/alpaca@1/records?sort=-length&page=3", 150),
    ("records filtered (input, 20-60 words, verb)", "/v/alpaca@1/records?has_input=yes&min_words=20&max_words=60&verb=rewrite", 150),
    ("search ?q=photosynthesis", "/v/alpaca@1/records?q=photosynthesis", 1000),
    ("search ?q=the (most rows match)", "/v/alpaca@1/records?q=the", 1000),
    ("record detail", "/v/alpaca@1/records/31337", 150),
    ("diff alpaca@1 -> alpaca@2, changed", "/diff?a=alpaca@1&b=alpaca@2&show=changed", 1500),
    ("diff page 20 of changed", "/diff?a=alpaca@1&b=alpaca@2&show=changed&page=20", 1500),
    ("diff removed", "/diff?a=alpaca@1&b=alpaca@2&show=removed", 1500),
    ("datasheet alpaca@1 (statistics, plots)", "/v/alpaca@1/datasheet", 500),
    ("datasheet alpaca@2 (and its share of alpaca@1)", "/v/alpaca@2/datasheet", 1500),
]
IMPORT = """import sys, time
from registry.importing import import_file
t = time.perf_counter()
import_file(sys.argv[1], name="alpaca", root=sys.argv[3])
import_file(sys.argv[2], name="alpaca", parents=["alpaca@1"], root=sys.argv[3])
print(time.perf_counter() - t)
"""


def server_ms(url: str) -> tuple[float, float]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as r:
        r.read()
        timing = r.headers.get("server-timing", "")
    wall = (time.perf_counter() - t) * 1000
    return float(re.search(r"dur=([\d.]+)", timing).group(1)), wall


def import_alpaca(tree: Path, root: Path) -> float:
    """Import both files with `tree`'s code into `root`; seconds taken."""
    out = subprocess.run([sys.executable, "-c", IMPORT, str(ALPACA), str(CLEANED), str(root)], check=True,
                         env={"PYTHONPATH": str(tree), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                         capture_output=True, text=True, cwd=tree)  # -c puts the working folder first
    return float(out.stdout.strip())


@contextmanager
def server(tree: Path, root: Path, started: list[float] | None = None):
    """`selfinstruct serve` from `tree` over `root`; yields its base URL once it answers (and appends
    the seconds from spawning it to its first answer to `started`)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "selfinstruct", "serve", "--port", str(port),
                             "--registry", str(root), "--studies", str(root.parent / "studies.sqlite")],
                            env={"PYTHONPATH": str(tree), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                            stderr=subprocess.DEVNULL, cwd=tree)  # -m puts the working folder first
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(2000):
            try:
                urllib.request.urlopen(base + "/static/app.css", timeout=1).read()
                break
            except OSError:
                time.sleep(0.01)
        if started is not None:
            started.append(time.perf_counter() - t)
        yield base
    finally:
        proc.kill()
        proc.wait()


def cold_and_warm(tree: Path, root: Path, path: str, started: list[float] | None = None) -> tuple[float, float]:
    """The page as a fresh server's first request, then, once the work it started in the background
    is done (3 s later), the median of 5 more."""
    with server(tree, root, started) as base:
        cold, _ = server_ms(base + path)
        time.sleep(3)
        return cold, statistics.median(server_ms(base + path)[0] for _ in range(5))


def flag(ms: float, target: float) -> str:
    return "ok" if ms < target else "OVER"


def compare(reference: Path | None, rounds: int, tmp: Path) -> Path:
    """Section 1; returns a registry imported with this tree's code."""
    trees = [("ours", REPO)] + ([("reference", reference)] if reference else [])
    figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
    imports: dict[str, list[float]] = {}
    starts: dict[str, list[float]] = {}
    for r in range(rounds):
        for side, tree in (trees if r % 2 == 0 else trees[::-1]):
            root = tmp / f"{side}-{r}" / "registry"
            imports.setdefault(side, []).append(import_alpaca(tree, root))
            for label, path, _ in COLD:
                figures.setdefault((side, label), []).append(
                    cold_and_warm(tree, root, path, starts.setdefault(side, [])))
    print(f"1. each page as a fresh server's first request; {rounds} rounds, sides alternating; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'page':34} {'side':10} {'cold ms (each round)':>28} {'median':>8} {'warm ms':>8} {'target':>7}")
    for label, _, target in COLD:
        for side, _ in trees:
            runs = figures[(side, label)]
            cold = statistics.median(c for c, _ in runs)
            each = " ".join(f"{c:.0f}" for c, _ in runs)
            warm = statistics.median(w for _, w in runs)
            print(f"{label:34} {side:10} {each:>28} {cold:8.0f} {warm:8.1f} {target:7.0f}  {flag(cold, target)}")
    for side, _ in trees:
        print(f"import alpaca@1 and alpaca@2 ({side}): " + ", ".join(f"{s:.2f}" for s in imports[side]) + " s; "
              f"server start to first answer: median {statistics.median(starts[side]):.2f} s")
    return tmp / "ours-0" / "registry"


def without_facts(tmp: Path) -> None:
    """Section 2: alpaca@1 as a release that stored no facts left it."""
    root = tmp / "old-style" / "registry"
    import_alpaca(REPO, root)
    for found in root.glob("objects/*/*.facts-*.json"):
        found.unlink()
    print(f"2. alpaca@1 committed without stored facts; load average {os.getloadavg()[0]:.2f}")
    for label, path, target in COLD:
        first, _ = cold_and_warm(REPO, root, path)
        again, warm = cold_and_warm(REPO, root, path)
        print(f"{label:34} first view ever {first:7.0f} ms, first after a restart {again:7.0f} ms, "
              f"warm {warm:6.1f} ms (target {target} ms cold)")
        for found in root.glob("objects/*/*.facts-*.json"):
            found.unlink()  # the next page starts from none again


def every_page(root: Path) -> None:
    """Section 3: every page, one server."""
    print(f"3. every page in one server; load average {os.getloadavg()[0]:.2f}")
    print(f"{'page':48} {'cold ms':>9} {'warm ms':>9} {'target ms':>10}  wall warm ms")
    with server(REPO, root) as base:
        for label, path, target in PAGES:
            cold, _ = server_ms(base + path)
            warm = [server_ms(base + path) for _ in range(5)]
            median = statistics.median(w[0] for w in warm)
            wall = statistics.median(w[1] for w in warm)
            print(f"{label:48} {cold:9.1f} {median:9.1f} {target:10.0f}  {wall:8.1f}  {flag(median, target)}")
    # The way users arrive: the version page (which starts building the records table in the
    # background), then, a second later, a click on Records.
    with server(REPO, root) as base:
        server_ms(base + "/v/alpaca@2")
        time.sleep(1.0)
        first, _ = server_ms(base + "/v/alpaca@2/records?page=2")
        label = "records page 2 of alpaca@2, 1 s after its page"
        print(f"{label:48} {first:9.1f} {'':>9} {150:10.0f}  {'':>8}  {flag(first, 150)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, help="another source tree to measure against, in turn")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not ALPACA.exists():
        sys.exit(f"needs {ALPACA} (../shared/data); nothing measured")
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}")
    with tempfile.TemporaryDirectory() as tmp:
        root = compare(args.reference.resolve() if args.reference else None, args.rounds, Path(tmp))
        without_facts(Path(tmp))
        every_page(root)
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
