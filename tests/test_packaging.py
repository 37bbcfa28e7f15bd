"""pyproject.toml packages only files that exist: every package-data pattern matches something."""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]


@pytest.mark.parametrize(("package", "pattern"), [(p, g) for p, globs in PACKAGE_DATA.items() for g in globs])
def test_a_package_data_pattern_names_files_that_exist(package, pattern):
    assert any(path.is_file() for path in (ROOT / package).glob(pattern)), f"{package}/{pattern} matches no file"
