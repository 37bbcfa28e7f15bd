"""The `selfinstruct` command line: a thin click layer over the library."""

from __future__ import annotations

import click

from selfinstruct import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="selfinstruct")
def cli() -> None:
    """Grow instruction datasets from seed tasks, version them, fine-tune on them."""


def _add_subgroups() -> None:
    # registry and finetune keep their heavy imports inside command bodies,
    # so importing their click groups here stays cheap.
    from finetune.cli import finetune
    from registry.cli import registry

    cli.add_command(registry)
    cli.add_command(finetune)


_add_subgroups()


def main() -> None:
    cli()
