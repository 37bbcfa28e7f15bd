"""The datasheet (Markdown, HTML, the web page) and the Hub export work where pyarrow cannot be imported.

pyarrow is not a dependency; each path runs in a subprocess that blocks its import
(`sys.modules["pyarrow"] = None` makes `import pyarrow` raise ImportError).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import registry
from registry.stats import arrow_bytes

from .conftest import make_frame

ROOT = Path(__file__).resolve().parents[2]


def run_without_pyarrow(code: str, cwd: Path) -> subprocess.CompletedProcess:
    prelude = "import sys\nsys.modules['pyarrow'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def cli(*args: str) -> str:
    return f"""
        from commands.main import main
        sys.argv = ["selfinstruct", *{list(args)!r}]
        try:
            main()
        except SystemExit as e:
            assert not e.code, e.code
    """


@pytest.fixture
def version(root):
    return registry.commit(make_frame(30), name="notes", lineage={"operation": "import"}, root=root)


def test_the_block_works(tmp_path):
    done = run_without_pyarrow("import pyarrow", tmp_path)
    assert done.returncode == 1 and "import of pyarrow halted" in done.stderr


def test_datasheet_markdown_and_html_without_pyarrow(version, root, tmp_path):
    done = run_without_pyarrow(cli("registry", "datasheet", "notes@1", "--registry", root), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "notes@1" in done.stdout and "30" in done.stdout
    out = tmp_path / "sheet.html"
    done = run_without_pyarrow(cli("registry", "datasheet", "notes@1", "--html", str(out), "--registry", root),
                               tmp_path)
    assert done.returncode == 0, done.stderr
    assert "<html" in out.read_text().lower()


def test_hf_export_without_pyarrow(version, root, tmp_path):
    out = tmp_path / "hf"
    done = run_without_pyarrow(cli("registry", "export", "notes@1", "--format", "hf", "--output", str(out),
                                   "--registry", root), tmp_path)
    assert done.returncode == 0, done.stderr
    assert pl.read_parquet(out / "data" / "train-00000-of-00001.parquet").height == 30
    assert "num_bytes:" in (out / "README.md").read_text()


def test_web_datasheet_page_without_pyarrow(version, root, tmp_path):
    done = run_without_pyarrow(f"""
        from tests.webapp.asgi import request
        from webapp.app import create_app
        reply = request(create_app({root!r}, {str(tmp_path / 's.sqlite')!r}), "/v/notes@1/datasheet")
        assert reply.status == 200, reply.text[-2000:]
        assert "notes@1" in reply.text
    """, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("frame", [
    make_frame(30),
    pl.DataFrame({"instruction": ["a", None, "héllo"], "n": [1, None, 3], "x": [1.5, 2.0, None],
                  "ok": [True, None, False], "small": pl.Series([1, 2, 3], dtype=pl.Int32)}),
    pl.DataFrame(schema={"instruction": pl.String, "input": pl.String}),
])
def test_arrow_bytes_matches_pyarrow(frame):
    pytest.importorskip("pyarrow", reason="the reference figure needs pyarrow")
    assert arrow_bytes(frame) == frame.rechunk().to_arrow().nbytes
