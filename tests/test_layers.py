"""The package layering of docs/architecture.md, checked on the source: every import, including
those inside functions, goes down the layers, and the project's modules import no circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a package may import only from packages before it in this list (and itself).
LAYERS = ["records", "modelcalls", "selfinstruct", "registry", "finetune", "curation", "evaluation", "webapp", "commands"]
# The registry stands on records (and the request layer); evaluation reaches models through the
# request layer, never through the generation engine.
NOT_BELOW = {"registry": {"selfinstruct"}, "evaluation": {"selfinstruct"}}
ENTRY_POINTS = {"__main__"}  # `python -m PACKAGE` starts the whole program, from above


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, name: str) -> list[tuple[str, list[str], int]]:
    """(module, names, line) for every import statement anywhere in the file, relative ones resolved."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from the module's package (a package's __init__ is its own)
                parts = name.split(".")
                base = parts[: len(parts) - node.level + (path.name == "__init__.py")]
                module = ".".join([*base, module] if module else base)
            out.append((module, [a.name for a in node.names], node.lineno))
    return out


def _project_target(module: str, names: list[str], modules: dict[str, Path]) -> list[str]:
    """The project modules an import statement loads."""
    if module.split(".")[0] not in LAYERS:
        return []
    targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
    return targets or ([module] if module in modules else [])


def test_imports_go_down_the_layers():
    modules, wrong = _modules(), []
    for name, path in modules.items():
        package = name.split(".")[0]
        if name.split(".")[-1] in ENTRY_POINTS:
            continue
        allowed = set(LAYERS[: LAYERS.index(package) + 1]) - NOT_BELOW.get(package, set())
        for module, _, line in _imports(path, name):
            top = module.split(".")[0]
            if top in LAYERS and top not in allowed:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "imports that go up or across the layers:\n" + "\n".join(wrong)


def test_no_import_circle_between_modules():
    """Function-level imports count too, so none can hide a circle."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        if name.split(".")[-1] in ENTRY_POINTS:
            continue
        for module, names, _ in _imports(path, name):
            graph[name].update(t for t in _project_target(module, names, modules) if t != name)
    state: dict[str, int] = {}  # 1 on the current path, 2 finished

    def cycle_from(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt]
            if nxt not in state:
                found = cycle_from(nxt, [*path, node])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = cycle_from(start, [])
            assert found is None, "import circle: " + " -> ".join(found)


def test_no_private_name_of_a_dependency():
    modules, wrong = _modules(), []
    for name, path in modules.items():
        for module, names, line in _imports(path, name):
            if module.split(".")[0] in LAYERS:
                continue
            private = [n for n in [*module.split("."), *names] if n.startswith("_") and not n.startswith("__")]
            if private:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module} {private}")
    assert not wrong, "\n".join(wrong)
