"""`registry filter` and `registry dedup`: click over commands/sieve_version.py (a version cleaned by
the generation engine's keep/drop stage, exactly as a generation run would clean it).

Importing this module mounts both commands on the `registry` group, with curation's `score` and
`select`; the top-level CLI takes the group from here. Every command that takes keep/drop options (these two and `selfinstruct dedup`) turns
them into `SieveOptions`: one validation, and a bad value is exit status 2 by the one exit table.
"""

from __future__ import annotations

from pathlib import Path

import click

from commands.sieve_version import sieve_version
from curation.cli import score_cmd, select_cmd
from registry.cli import registry
from registry.cli_common import current_root, json_option, root_option
from registry.cli_derive import report_version
from selfinstruct.sieve_options import SieveOptions


@click.command("filter")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--filters", "--profile", "profile", default="strict", show_default=True,
              type=click.Choice(["alpaca", "strict"]),
              help="Quality profile of the generation engine (as generate's --filters; --profile is the old name).")
@click.option("--language", default="en", show_default=True, help="Language of the records.")
@root_option
@json_option
def filter_cmd(ref, into, profile, language, as_json):
    """Drop rows the generation engine's filters reject, counting drops per rule.

    Example: selfinstruct registry filter alpaca@1 --filters strict --into alpaca-strict
    """
    options = SieveOptions(filters=profile, language=language, rouge_threshold=None)
    report_version(sieve_version(ref, into=into, options=options, root=current_root()), as_json)


@click.command("dedup")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--seeds", "seeds_path", type=click.Path(exists=True, dir_okay=False),
              help="Also drop instructions too close to these seed tasks (any seed file `generate` reads, "
                   "or JSON Lines with `instruction`).")
@click.option("--rouge-threshold", default=0.7, show_default=True, type=float,
              help="Drop an instruction whose ROUGE-L F to a seed or an earlier kept one exceeds this (0 < T <= 1).")
@click.option("--rouge-tokenizer", "--tokenizer", "tokenizer", default="rouge", show_default=True,
              type=click.Choice(["rouge", "unicode"]), help="As generate's and dedup's (--tokenizer is the old name).")
@click.option("--minhash-threshold", type=float,
              help="Also drop whole records whose estimated Jaccard to an earlier kept one reaches this (0 < J <= 1).")
@root_option
@json_option
def dedup_cmd(ref, into, seeds_path, rouge_threshold, tokenizer, minhash_threshold, as_json):
    """Drop near-duplicates with the generation engine's dedup (in order, as generation does).

    Example: selfinstruct registry dedup alpaca@1 --rouge-threshold 0.7 --into alpaca-dedup
    """
    from records.seeds import read_seed_instructions

    options = SieveOptions(filters=None, rouge_threshold=rouge_threshold, rouge_tokenizer=tokenizer,
                            minhash_threshold=minhash_threshold)
    seeds = read_seed_instructions(seeds_path) if seeds_path else []
    version = sieve_version(ref, into=into, options=options, seeds=seeds,
                            seeds_name=Path(seeds_path).stem if seeds_path else None, root=current_root())
    report_version(version, as_json)


registry.add_command(filter_cmd)
registry.add_command(dedup_cmd)
registry.add_command(score_cmd)  # curation: score layers and selections by them
registry.add_command(select_cmd)
