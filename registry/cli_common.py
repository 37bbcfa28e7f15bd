"""Helpers shared by the `selfinstruct registry` commands: root option, --json, tables."""

from __future__ import annotations

import json

import click



def _store_root(ctx: click.Context, _param, value):
    if value:
        ctx.meta["registry_root"] = value
    return value


def root_option(f):
    """`--registry PATH` on a command (the group accepts it too); falls back to $SELFINSTRUCT_REGISTRY."""
    return click.option("--registry", "registry_root", metavar="PATH", expose_value=False, callback=_store_root,
                        is_eager=True, help="Registry root (a folder or fsspec URL); default $SELFINSTRUCT_REGISTRY.")(f)


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def current_root() -> str | None:
    return click.get_current_context().meta.get("registry_root")


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def console():
    from rich.console import Console

    return Console()


def rich_table(title: str | None, columns: list[str], rows: list[list], **kw):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, **kw)
    for c in columns:
        table.add_column(c, overflow="fold")  # a long path or hash wraps onto more lines; never cut to "…"
    for r in rows:  # cells as plain Text: "[training failed]" or a record's "[b]" is data, not rich markup
        table.add_row(*(Text("" if v is None else str(v)) for v in r))
    return table


def short(text, width: int = 60) -> str:
    text = "" if text is None else str(text).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
