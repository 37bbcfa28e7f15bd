"""Fixtures for registry tests: a fresh registry root and small synthetic instruction frames."""

from __future__ import annotations

import polars as pl
import pytest


def make_frame(n: int, *, tag: str = "", start: int = 0) -> pl.DataFrame:
    """n distinct Alpaca-shaped records; every third has an input."""
    return pl.DataFrame({
        "instruction": [f"Write a short note about topic {i}{tag}." for i in range(start, start + n)],
        "input": [f"context {i}" if i % 3 == 0 else "" for i in range(start, start + n)],
        "output": [f"A note about topic {i}: " + "word " * (i % 17) for i in range(start, start + n)],
    })


@pytest.fixture
def root(tmp_path) -> str:
    return str(tmp_path / "registry")


@pytest.fixture
def frame() -> pl.DataFrame:
    return make_frame(120)
