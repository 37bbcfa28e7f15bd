"""Fixtures for registry tests: a fresh registry root and small synthetic instruction frames."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest


def make_frame(n: int, *, tag: str = "", start: int = 0) -> pl.DataFrame:
    """n distinct Alpaca-shaped records; every third has an input."""
    return pl.DataFrame({
        "instruction": [f"Write a short note about topic {i}{tag}." for i in range(start, start + n)],
        "input": [f"context {i}" if i % 3 == 0 else "" for i in range(start, start + n)],
        "output": [f"A note about topic {i}: " + "word " * (i % 17) for i in range(start, start + n)],
    })


def wait_for(path: Path, proc) -> None:
    """Wait until a child process has created `path` (its signal that it reached a point); fail if it died."""
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)


@pytest.fixture
def root(tmp_path) -> str:
    return str(tmp_path / "registry")


@pytest.fixture
def frame() -> pl.DataFrame:
    return make_frame(120)


@pytest.fixture(scope="session")
def s3_endpoint():
    """A local S3 server (moto's standalone server on 127.0.0.1, a free port) for the whole session;
    AWS_* variables point s3fs (and child processes) at it."""
    pytest.importorskip("s3fs", reason="s3fs is the `s3` extra (in `dev`)")
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is a dev dependency")
    import logging
    import os
    import socket

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env["AWS_ENDPOINT_URL"]
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


@pytest.fixture
def s3_root(s3_endpoint) -> str:
    """A fresh bucket on the local S3 server; the registry root is a prefix inside it."""
    import uuid

    import fsspec

    bucket = f"reg-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3").mkdir(bucket)
    return f"s3://{bucket}/registry"
