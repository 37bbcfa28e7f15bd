"""`selfinstruct serve` refuses what it cannot serve with one line and exit status 2, before printing a URL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from .conftest import ROOT


def serve(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "selfinstruct", "serve", "--registry", str(tmp_path / "registry"),
                           *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_busy_port_is_one_line_and_no_url(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = serve(tmp_path, "--port", str(port), "--studies", str(tmp_path / "s.sqlite"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use "
                                        "(another server on that port? choose one with --port)"]
    assert "http://" not in done.stderr + done.stdout


def test_a_studies_path_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    done = serve(tmp_path, "--studies", str(blocker / "sub" / "studies.sqlite"))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: --studies {blocker / 'sub' / 'studies.sqlite'}: cannot open or create it")
