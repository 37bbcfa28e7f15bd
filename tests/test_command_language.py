"""One command language: an option means the same thing under the same name and short flag in every
command, and docs/cli.md is what the click tree gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from commands.main import cli

ROOT = Path(__file__).resolve().parent.parent
# Old or other names of a meaning that has one name: they may stay as a second, older spelling of
# an option, never as its name.
NOT_A_NAME = {"--tokenizer": "--rouge-tokenizer", "--profile": "--filters", "--max-new-tokens": "--max-tokens",
              "--out": "--output", "--outdir": "--output", "--root": "--registry", "--key": "--api-key",
              "--endpoint": "--base-url", "--workers": "--concurrency", "--budget": "--max-cost"}
# What a dest means wherever it appears: the one long name it goes by.
DEST_NAMES = {"as_json": "--json", "dry_run": "--dry-run", "api_key": "--api-key", "base_url": "--base-url",
              "concurrency": "--concurrency", "max_cost": "--max-cost", "timeout_s": "--timeout",
              "pricing": "--pricing", "quiet": "--quiet"}


def _options():
    def leaves(group, path=()):
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                yield from leaves(command, (*path, name))
            else:
                yield " ".join((*path, name)), command

    for name, command in leaves(cli):
        for param in command.params:
            if isinstance(param, click.Option):
                names = [*param.opts, *param.secondary_opts]
                yield name, param, [n for n in names if n.startswith("--")], [n for n in names if not n.startswith("--")]


def test_a_long_option_has_the_same_short_flag_everywhere_and_a_short_flag_one_meaning():
    shorts_of, long_of, wrong = {}, {}, []
    for command, _, longs, shorts in _options():
        for long in longs:
            shorts_of.setdefault(long, {}).setdefault(tuple(sorted(shorts)), []).append(command)
        for short in shorts:
            if longs:
                long_of.setdefault(short, {}).setdefault(longs[0], []).append(command)
    wrong += [f"{long}: {spellings}" for long, spellings in shorts_of.items() if len(spellings) > 1]
    wrong += [f"{short}: {meanings}" for short, meanings in long_of.items() if len(meanings) > 1]
    assert not wrong, "\n".join(wrong)


def test_a_meaning_goes_by_its_one_name():
    wrong = []
    for command, param, longs, _ in _options():
        if longs and longs[0] in NOT_A_NAME:
            wrong.append(f"{command}: {longs[0]} is spelt {NOT_A_NAME[longs[0]]}")
        if param.name in DEST_NAMES and DEST_NAMES[param.name] not in longs:
            wrong.append(f"{command}: {param.name} goes by {longs}, not {DEST_NAMES[param.name]}")
    assert not wrong, "\n".join(wrong)


def test_an_output_file_is_dash_o_in_every_command_that_writes_one():
    missing = [command for command, _, longs, shorts in _options() if "--output" in longs and "-o" not in shorts]
    assert not missing


def test_docs_cli_md_is_current():
    done = subprocess.run([sys.executable, "scripts/cli_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
