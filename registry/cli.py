"""`selfinstruct registry ...` commands."""

import click


@click.group()
def registry() -> None:
    """Versioned dataset registry."""
