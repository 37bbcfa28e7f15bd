"""Web app benchmark on Alpaca 52K: server time of a records page, a search, and a diff page.

Run from the repository root:  PYTHONPATH=. python bench/bench_webapp.py
Imports ../shared/data's Alpaca file and, as its child, the cleaned release into a temp registry
(never copies the data anywhere else), starts `selfinstruct serve` on a free loopback port, and
reads each page's server time from its Server-Timing header: the first request (cold: the
version's derived table or the diff is built and cached by content hash) and the median of 5 more.
Targets: a page of 50 records < 150 ms, a search < 1 s, a diff page of alpaca@1 vs the cleaned
version < 1.5 s.
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
ALPACA = DATA / "alpaca_data.jsonl"
CLEANED = DATA / "alpaca_data_cleaned_2023-03-21.jsonl"
sys.path.insert(0, str(REPO))

PAGES = [  # (label, path, target seconds)
    ("records page 1 (50 rows)", "/v/alpaca@1/records", 0.150),
    ("records page 500", "/v/alpaca@1/records?page=500", 0.150),
    ("records sorted by length", "/v/alpaca@1/records?sort=-length&page=3", 0.150),
    ("records filtered (input, 20-60 words, verb)", "/v/alpaca@1/records?has_input=yes&min_words=20&max_words=60&verb=rewrite", 0.150),
    ("search ?q=photosynthesis", "/v/alpaca@1/records?q=photosynthesis", 1.0),
    ("search ?q=the (most rows match)", "/v/alpaca@1/records?q=the", 1.0),
    ("record detail", "/v/alpaca@1/records/31337", 0.150),
    ("diff alpaca@1 -> alpaca@2, changed", "/diff?a=alpaca@1&b=alpaca@2&show=changed", 1.5),
    ("diff page 20 of changed", "/diff?a=alpaca@1&b=alpaca@2&show=changed&page=20", 1.5),
    ("diff removed", "/diff?a=alpaca@1&b=alpaca@2&show=removed", 1.5),
    ("datasheet alpaca@1 (statistics, plots, novelty)", "/v/alpaca@1/datasheet", 1.5),
]


def server_ms(url: str) -> tuple[float, float]:
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as r:
        r.read()
        timing = r.headers.get("server-timing", "")
    wall = (time.perf_counter() - t) * 1000
    return float(re.search(r"dur=([\d.]+)", timing).group(1)), wall


def main() -> None:
    if not ALPACA.exists():
        sys.exit(f"needs {ALPACA} (../shared/data); nothing measured")
    from registry.importing import import_file

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "registry"
        t = time.perf_counter()
        import_file(ALPACA, name="alpaca", root=str(root))
        import_file(CLEANED, name="alpaca", parents=["alpaca@1"], root=str(root))
        print(f"imported alpaca@1 and alpaca@2 (cleaned, child of alpaca@1) in {time.perf_counter() - t:.1f} s")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "selfinstruct", "serve", "--port", str(port),
                                 "--registry", str(root), "--studies", str(Path(tmp) / "studies.sqlite")],
                                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                                stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/static/app.css", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            print(f"{'page':48} {'cold ms':>9} {'warm ms':>9} {'target ms':>10}  wall warm ms")
            for label, path, target in PAGES:
                cold, _ = server_ms(base + path)
                warm = [server_ms(base + path) for _ in range(5)]
                median = statistics.median(w[0] for w in warm)
                wall = statistics.median(w[1] for w in warm)
                flag = "ok" if median < target * 1000 else "OVER"
                print(f"{label:48} {cold:9.1f} {median:9.1f} {target * 1000:10.0f}  {wall:8.1f}  {flag}")
            # The way users arrive: the version page (which starts building the records table in the
            # background), then, a second later, a click on Records.
            server_ms(base + "/v/alpaca@2")
            time.sleep(1.0)
            first, _ = server_ms(base + "/v/alpaca@2/records")
            flag = "ok" if first < 150 else "OVER"
            print(f"{'records page 1 of alpaca@2, 1 s after its page':48} {first:9.1f} {'':>9} {150:10.0f}  {'':>8}  {flag}")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
