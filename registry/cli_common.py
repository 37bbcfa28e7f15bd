"""Helpers shared by the `selfinstruct registry` commands: root option, --json, errors, tables."""

from __future__ import annotations

import functools
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


class UserError(click.ClickException):
    """A one-line error the user can act on: bad input, a damaged registry, an unusable path (exit 2)."""

    exit_code = 2


def friendly_errors(f):
    """Turn registry, input and file-system errors into one line on stderr, exit status 2, no stack trace."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        from registry.errors import RegistryError
        from records.errors import InputError

        try:
            return f(*args, **kwargs)
        except (RegistryError, InputError) as e:  # InputError: a malformed record or seed file
            raise UserError(str(e)) from None
        except OSError as e:  # a path that cannot be written or read, found only while working
            where = e.filename if getattr(e, "filename", None) else ""
            raise UserError(f"{where}: {e.strerror or e}" if where else f"{e.strerror or e}") from None

    return wrapper


def print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def console():
    from rich.console import Console

    return Console()


def rich_table(title: str | None, columns: list[str], rows: list[list], **kw):
    from rich.table import Table

    table = Table(title=title, **kw)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    return table


def short(text, width: int = 60) -> str:
    text = "" if text is None else str(text).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
