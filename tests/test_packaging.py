"""What the wheel carries: every data file of the packages, and a declared dependency for every import.

An editable install (what scripts/install.sh makes) reads both from the source tree, so neither
mistake shows in the rest of the suite; scripts/check_wheel.sh (a CI stage) runs the commands
from a real wheel, and these two checks catch the same mistakes in a second.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SKIP_DIRS = {"__pycache__"}


def packages() -> list[str]:
    """The top-level packages the wheel holds (setuptools' find with our include patterns)."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()
                  and any(fnmatch.fnmatch(p.name, pattern) for pattern in include))


def files_under(package: str):
    for path in sorted((ROOT / package).rglob("*")):
        if path.is_file() and not SKIP_DIRS & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc":
            yield path


def data_files_missing_from_the_wheel() -> list[str]:
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]
    missing = []
    for package in packages():
        for path in files_under(package):
            if path.suffix == ".py":
                continue
            # package-data globs are relative to the (sub)package that declares them
            rel = path.relative_to(ROOT).as_posix()
            declared = [f"{name.replace('.', '/')}/{glob}" for name, patterns in globs.items() for glob in patterns]
            if not any(fnmatch.fnmatch(rel, pattern) and rel.count("/") == pattern.count("/") for pattern in declared):
                missing.append(rel)
    return missing


def test_every_data_file_of_the_packages_is_declared_package_data():
    assert data_files_missing_from_the_wheel() == []


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_norm(re.match(r"[A-Za-z0-9_.\-]+", r).group(0)) for r in requirements}


def _guarded(node: ast.AST, parents: dict) -> bool:
    """Whether an import sits in a try whose handler catches ImportError (an optional dependency)."""
    while node in parents:
        node, child = parents[node], node
        if isinstance(node, ast.Try) and child in node.body:
            for handler in node.handlers:
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    return True
    return False


def third_party_imports() -> dict[str, tuple[str, bool]]:
    """Top-level module -> (a file importing it, whether every import of it is guarded)."""
    own = set(packages())
    found: dict[str, tuple[str, bool]] = {}
    for package in own:
        for path in files_under(package):
            if path.suffix != ".py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {n.split(".")[0] for n in names} - own - set(sys.stdlib_module_names):
                    where, guarded = found.get(top, (path.relative_to(ROOT).as_posix(), True))
                    found[top] = (where, guarded and _guarded(node, parents))
    return found


def test_every_import_of_the_packages_is_a_declared_dependency():
    required = _requirement_names(PYPROJECT["project"]["dependencies"])
    optional = _requirement_names([r for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items()
                                   if extra != "dev" for r in reqs])
    distributions = importlib.metadata.packages_distributions()
    undeclared = []
    for module, (where, guarded) in sorted(third_party_imports().items()):
        names = {_norm(d) for d in distributions.get(module, [module])}
        if names & required or (guarded and names & optional):
            continue
        undeclared.append(f"{where} imports {module} ({', '.join(sorted(names))})"
                          + (", guarded, but in no extra" if guarded else ""))
    assert undeclared == []


def test_a_package_data_pattern_names_files_that_exist():
    """Every package-data pattern matches something: a pattern for a folder that is gone packages nothing."""
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]
    empty = [f"{package}/{pattern}" for package, patterns in globs.items() for pattern in patterns
             if not any(path.is_file() for path in (ROOT / package.replace(".", "/")).glob(pattern))]
    assert empty == []
