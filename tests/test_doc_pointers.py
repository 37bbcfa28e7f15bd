"""Pointers between the project's files name things that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_sections() -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", (ROOT / "README.md").read_text(), re.M)}


def test_pointers_to_readme_sections_name_existing_sections():
    pointed = re.findall(r'README "([^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert pointed and set(pointed) <= _readme_sections()


def test_set_up_says_what_the_browser_tests_need():
    readme = (ROOT / "README.md").read_text()
    set_up = readme.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    assert "chromium-driver" in set_up and ".ci/run" in set_up


def test_the_eval_walkthrough_reads_alpacas_file_as_published():
    walkthrough = (ROOT / "docs" / "eval.md").read_text().split("## A whole loop on a CPU", 1)[1]
    assert "alpaca_data.jsonl" not in walkthrough and "alpaca_data.json" in walkthrough
