"""Every command ends the same way for the same kind of error: one table, applied by the group."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from commands.main import cli
from modelcalls.errors import BackendError, ConfigError, JournalWriteFailed, RunDirError, RunLocked
from modelcalls.journal import JournalError
from records.errors import InputError, SelfInstructError
from registry.errors import NotFoundError

ROOT = Path(__file__).resolve().parents[2]

KINDS = [
    (InputError("data.jsonl", "is missing", line=3, field="output"), 2),
    (JournalError("run/journal.jsonl", "not valid JSON", line=7), 2),
    (ConfigError("nothing listens at http://localhost:9/v1"), 2),
    (RunLocked("run: another process is using this run directory"), 2),
    (RunDirError("run/journal.jsonl belongs to another run"), 2),
    (NotFoundError("no dataset 'x'"), 2),
    (ValueError("temperature must be in [0, 2]"), 2),
    (FileNotFoundError(2, "No such file or directory", "/nowhere/x.json"), 2),
    (BackendError("api.example.com refused the API key (401)"), 1),
    (JournalWriteFailed("run/journal.jsonl: could not append"), 1),
    (SelfInstructError("the sieve process exited"), 1),
]


def _leaves(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _leaves(command, (*path, name))
        else:
            yield (*path, name), command


LEAVES = list(_leaves(cli))


def test_the_tree_is_walked():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"generate", "dedup", "chat", "serve", "eval judge", "eval answer", "registry import",
            "finetune run"} <= names


@pytest.mark.parametrize("path, command", LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_each_command_gives_each_kind_of_error_the_same_status(path, command, monkeypatch):
    monkeypatch.setattr(command, "params", [])
    for error, status in KINDS:
        def raise_it(**_):
            raise error

        monkeypatch.setattr(command, "callback", raise_it)
        result = CliRunner().invoke(cli, list(path))
        lines = [x for x in result.output.splitlines() if x.strip()]
        assert result.exit_code == status, (type(error).__name__, result.output)
        assert lines == [f"Error: {lines[0][len('Error: '):]}"] and "Traceback" not in result.output
        where = error.filename if isinstance(error, OSError) else str(error)
        assert where in lines[0]


@pytest.mark.parametrize("path, command", LEAVES[:3], ids=[" ".join(p) for p, _ in LEAVES[:3]])
def test_an_interrupt_is_130_and_a_bug_keeps_its_traceback(path, command, monkeypatch):
    monkeypatch.setattr(command, "params", [])
    monkeypatch.setattr(command, "callback", lambda **_: (_ for _ in ()).throw(KeyboardInterrupt()))
    result = CliRunner().invoke(cli, list(path))
    assert result.exit_code == 130 and "interrupted" in result.output
    monkeypatch.setattr(command, "callback", lambda **_: (_ for _ in ()).throw(RuntimeError("a bug")))
    result = CliRunner().invoke(cli, list(path))
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_no_command_exits_or_catches_an_interrupt_by_itself():
    """Exit statuses come from records/exits.py alone: no literal sys.exit, no private Ctrl-C handler
    (chat's terminal loop stops a reply on Ctrl-C; run_resumable says where a run's journal is; the
    training loop saves a checkpoint and re-raises as Interrupted, saying what it saved)."""
    allowed = {("evaluation/chat.py", "KeyboardInterrupt"), ("modelcalls/loop.py", "KeyboardInterrupt"),
               ("records/exits.py", "KeyboardInterrupt"), ("finetune/train.py", "KeyboardInterrupt")}
    found = []
    for package in ("records", "modelcalls", "selfinstruct", "registry", "finetune", "evaluation", "webapp", "commands"):
        for path in (ROOT / package).rglob("*.py"):
            rel = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "sys"):
                    found.append(f"{rel}:{node.lineno} sys.exit")
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    names = [n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)]
                    if "KeyboardInterrupt" in names and (rel, "KeyboardInterrupt") not in allowed:
                        found.append(f"{rel}:{node.lineno} except KeyboardInterrupt")
    assert not found, found
