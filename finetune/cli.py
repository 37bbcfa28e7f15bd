"""`selfinstruct finetune ...` commands (torch is imported inside command bodies)."""

import click


@click.group()
def finetune() -> None:
    """Fine-tune a causal LM on a registered dataset version."""
