"""Write docs/cli.md from the click tree, so the command reference cannot drift from the commands.

    python scripts/cli_docs.py            # rewrite docs/cli.md
    python scripts/cli_docs.py --check    # exit 1 when docs/cli.md is not what the tree gives

tests/test_command_language.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "cli.md"


def leaves(group: click.Group, path=()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield (*path, name), command


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _option_row(param: click.Parameter) -> str:
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    if isinstance(param, click.Option) and param.is_flag:
        kind, default = "flag", ""
    else:
        kind = param.type.name if not isinstance(param.type, click.Choice) else "|".join(param.type.choices)
        value = param.default
        unset = value is None or callable(value) or type(value).__name__ == "Sentinel" or value in ((), [])
        default = "" if unset else f"`{value}`"
    extra = " (repeatable)" if getattr(param, "multiple", False) else ""
    extra += " (required)" if param.required else ""
    return f"| {names} | {_cell(kind)} | {default} | {_cell(getattr(param, 'help', '') or '')}{extra} |"


def render() -> str:
    from commands.main import cli

    lines = ["# Command reference", "",
             "Generated from the commands themselves by `python scripts/cli_docs.py` (a test checks it is current);",
             "`selfinstruct COMMAND --help` prints the same with examples. Every command exits 0 done, 1 failed,",
             "2 bad input or configuration, 3 stopped short, 130 interrupted, 143 terminated.", ""]
    for path, command in leaves(cli):
        name = " ".join(path)
        ctx = click.Context(command, info_name=f"selfinstruct {name}")
        usage = f"selfinstruct {name} " + " ".join(command.collect_usage_pieces(ctx))
        lines += [f"## selfinstruct {name}", "", "```", usage.strip(), "```", ""]
        summary = (command.help or "").split("\n\n")[0]
        lines += [" ".join(summary.split()), ""]
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if arguments:
            lines += ["Arguments: " + ", ".join(f"`{p.human_readable_name}`" for p in arguments), ""]
        options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
        if options:
            lines += ["| option | type | default | meaning |", "| --- | --- | --- | --- |"]
            lines += [_option_row(p) for p in options]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python scripts/cli_docs.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
