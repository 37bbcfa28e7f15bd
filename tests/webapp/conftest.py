"""Fixtures for the web app: a temp registry, real uvicorn servers in subprocesses, one headless Chromium.

The browser tests need Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); where
they are absent the browser tests skip and say so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCRIPT_OUTPUT = '<script>document.title="pwned"</script><b>bold?</b>'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`selfinstruct serve` in a subprocess on 127.0.0.1:<free port> (or bound to all interfaces)."""

    def __init__(self, tmp: Path, *extra: str, host: str = "127.0.0.1"):
        self.tmp, self.extra, self.host = tmp, extra, host
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "selfinstruct", "serve", "--host", self.host, "--port", str(self.port),
               "--registry", str(self.tmp / "registry"), "--studies", str(self.tmp / "studies.sqlite"), *self.extra]
        self.log = open(self.tmp / f"server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.tmp / f'server-{self.port}.log').read_text()}")
            try:
                urllib.request.urlopen(self.url + "/static/app.css", timeout=2).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when a machine loses power."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.log.close()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path: str, data: bytes, headers: dict) -> tuple[int, str]:
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def make_registry(root: Path) -> None:
    import registry

    rows = [{"instruction": f"Write a haiku about topic {i}.", "input": f"mood {i}" if i % 3 == 0 else "",
             "output": f"Answer {i}: " + "leaf " * (i % 20)} for i in range(120)]
    rows[5] = {"instruction": "Show a tag.", "input": "", "output": SCRIPT_OUTPUT}
    rows[17]["instruction"] = "Describe the quokka habitat."
    registry.commit(pl.DataFrame(rows), name="demo", root=str(root),
                    lineage={"operation": "import", "source": {"path": "/data/demo.jsonl"}})
    edited = [dict(r) for r in rows]
    edited[7]["output"] = "Answer 7: a brand new line of words"
    del edited[40]
    edited.append({"instruction": "Name a new colour.", "input": "", "output": "Teal"})
    registry.commit(pl.DataFrame(edited), name="demo", lineage={"operation": "derive"}, parents=["demo@1"],
                    root=str(root))
    run = root.parent / "run"
    run.mkdir(parents=True, exist_ok=True)
    kept = [{"instruction": "List three uses of a kettle.", "input": "", "output": "Tea, soup, noodles.",
             "most_similar": "List three uses of a teapot.", "rouge_l": 0.6667}]
    dropped = [{"instruction": "List three uses of a teapot!", "drop_reason": "rouge_l", "rouge_l": 0.9,
                "collided_with": "List three uses of a teapot."},
               {"instruction": "Draw a picture of a cat.", "drop_reason": "keyword", "rouge_l": ""}]
    for name, rows_ in (("kept.jsonl", kept), ("dropped.jsonl", dropped)):
        (run / name).write_text("".join(json.dumps(r) + "\n" for r in rows_))
    registry.commit(pl.DataFrame([{k: r[k] for k in ("instruction", "input", "output")} for r in kept]), name="gen",
                    lineage={"operation": "generate", "generator": {"model": "tiny-lm"}, "run_dir": str(run)},
                    root=str(root))
    registry.record_use("demo@2", {"kind": "finetune", "model": "tiny-model", "output": "/runs/tiny",
                                   "final_loss": 1.25}, root=str(root))
    score = {"kind": "evaluation", "model_output": "/runs/tiny", "set_name": "toy", "n": 40, "judge": "judge-x",
             "win_rate": 0.45, "ci_low": 0.3, "ci_high": 0.6, "lc_win_rate": 0.41}
    registry.record_use("demo@2", {**score, "against": "old-entry"}, root=str(root))  # recorded before the LC interval
    registry.record_use("demo@2", {**score, "against": "new-entry", "lc_ci_low": 0.28, "lc_ci_high": 0.55},
                        root=str(root))


def answer_files(folder: Path, n: int = 10) -> tuple[Path, Path]:
    """Two AlpacaEval-style output files over the same n instructions (systems alpha-7b and beta-13b)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for system, word in (("alpha-7b", "Alpha"), ("beta-13b", "Beta")):
        rows = [{"instruction": f"Question number {k}: what is {k} squared?", "input": "" if k % 2 else f"k={k}",
                 "output": f"{word} says {k * k}.", "generator": system, "dataset": "test"} for k in range(n)]
        path = folder / f"{system}.json"
        path.write_text(json.dumps(rows))
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    make_registry(tmp / "registry")
    return tmp


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def submit(browser, element) -> None:
    """Click `element` (or submit its form) and wait until the next page has replaced this one."""
    from selenium.webdriver.common.by import By

    old = browser.find_element(By.TAG_NAME, "main")
    if element.tag_name == "input":
        element.submit()
    else:
        element.click()
    wait_for_next_page(browser, old)


def wait_for_next_page(browser, old) -> None:
    """Wait until `old` (an element of the page being left) is gone and the next page has loaded.

    While a document is being replaced, chromedriver may answer for the old node either "stale
    element" or "node does not belong to the document": both mean the old page is gone.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_):
        try:
            old.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(browser, 15).until(gone)
    WebDriverWait(browser, 15).until(lambda b: b.execute_script("return document.readyState") == "complete")
