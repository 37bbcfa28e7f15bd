"""The code examples in docstrings call functions with arguments those functions accept.

Each indented example line of a module's (or a function's) docstring is parsed; every call in it
whose function the module can name (its own globals, or a package it names) is bound to that
function's signature, so an example that would raise TypeError fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["records", "selfinstruct", "registry", "finetune", "evaluation", "webapp", "commands"]
STALE: dict[str, str] = {}  # "module: call(" -> why its example is known to be stale


def _examples(tree: ast.Module) -> list[list[ast.stmt]]:
    """Per docstring, the statements of its code lines (lines that parse as Python; prose does not)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=False) or ""
            statements = []
            for line in doc.splitlines()[1:]:
                code = line.strip().split("  #")[0].split("  ->")[0]
                try:
                    statements += ast.parse(code).body
                except SyntaxError:
                    continue
            out.append([s for s in statements if isinstance(s, (ast.Import, ast.ImportFrom))
                        or any(isinstance(n, ast.Call) for n in ast.walk(s))])
    return out


def _resolve(func: ast.expr, namespace: dict):
    if isinstance(func, ast.Name):
        return namespace.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _resolve(func.value, namespace)
        return getattr(owner, func.attr, None) if owner is not None else None
    return None


def _example_calls():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for statements in _examples(ast.parse(path.read_text(encoding="utf-8"))):
                imports = [s for s in statements if isinstance(s, (ast.Import, ast.ImportFrom))]
                for call in (n for s in statements for n in ast.walk(s) if isinstance(n, ast.Call)):
                    name = f"{module}: {ast.unparse(call)[:60]}"
                    marks = [pytest.mark.xfail(strict=True, reason=why) for key, why in STALE.items()
                             if name.startswith(key)]
                    yield pytest.param(module, imports, call, id=name, marks=marks)


@pytest.mark.parametrize(("module", "imports", "call"), list(_example_calls()))
def test_a_docstring_example_binds_to_its_function(module, imports, call):
    namespace = {**{p: importlib.import_module(p) for p in PACKAGES}, **vars(importlib.import_module(module))}
    exec(compile(ast.Module(imports, []), "<example>", "exec"), namespace)  # the example's own imports
    func = _resolve(call.func, namespace)
    if func is None or not callable(func):
        pytest.skip("the example calls something the module does not name")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        pytest.skip("no signature")
    args = [None] * sum(1 for a in call.args if not isinstance(a, ast.Starred))
    signature.bind(*args, **{k.arg: None for k in call.keywords if k.arg})
