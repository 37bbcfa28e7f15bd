"""The top-level `selfinstruct` group: the generator's commands (commands/generate.py), then `registry` (with the
compositions of commands/derive.py), `finetune`, `eval`, `chat` and `serve`.

    selfinstruct = "commands.main:main"   (pyproject.toml; `python -m selfinstruct` runs it too)
"""

from __future__ import annotations

import click

from commands.derive import registry  # the registry group with filter and dedup mounted
from commands.generate import backends, dedup, generate
from evaluation.cli import eval_group
from evaluation.cli_answer import chat_command
from finetune.cli import finetune
from records import __version__
from records.exits import CommandGroup
from webapp.cli import serve


class TopGroup(CommandGroup):
    """CommandGroup whose unknown-option error also suggests the options the mistyped name begins
    (`--num` -> `-n/--num-instructions`), which click's spelling match misses."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as e:
            e.possibilities = list(dict.fromkeys([*prefixed_options(e), *(e.possibilities or ())]))
            raise


def prefixed_options(error: click.NoSuchOption) -> list[str]:
    """The options of the failing command that begin with the name given, each with its other spellings."""
    params = error.ctx.command.params if error.ctx is not None else []
    return [name for p in params if isinstance(p, click.Option)
            and any(o.startswith(error.option_name) for o in p.opts if o.startswith("--"))
            for name in (*p.secondary_opts, *p.opts) if name != error.option_name]


# CommandGroup applies the one error-to-exit table (records/exits.py) to every command below it, and
# turns Ctrl-C into 130 and SIGTERM into 143 after a paid run has journaled what was in flight.
@click.group(cls=TopGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="selfinstruct")
def cli() -> None:
    """Grow instruction datasets from seed tasks, version them, fine-tune on them.

    \b
        selfinstruct generate -n 200 --base-url http://localhost:8000/v1 --model my-model -o data/regen.jsonl
        selfinstruct registry import data/regen.jsonl --name mine
        selfinstruct finetune run --dataset mine@1 --model ./my-base-model --recipe llama-1b

    \b
    Exit status: 0 done, 1 failed (endpoint refused, run error), 2 bad input or configuration
    (nothing sent), 3 stopped short (--max-cost or a stalled model; rerun to continue), 130 interrupted,
    143 terminated (SIGTERM): the same for every command.
    """


# Every group keeps its heavy imports (torch, transformers, polars) inside command bodies,
# so importing the whole tree here stays cheap.
for command in (generate, dedup, backends, registry, finetune, eval_group, serve):
    cli.add_command(command)
cli.add_command(chat_command, "chat")


def main() -> None:
    cli()
