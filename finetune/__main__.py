"""`python -m finetune run|plan ...`: the entry point for `accelerate launch -m finetune run`."""

from finetune.cli import finetune

finetune(prog_name="python -m finetune")
