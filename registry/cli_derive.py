"""Derivation commands that need only the registry: sample, merge (each makes a child version with --into NAME).

`registry filter` and `registry dedup` run the generation engine, so they live at the CLI layer
(commands/derive.py) and reuse `report_version`.
"""

from __future__ import annotations

import click

from registry.cli_common import current_root, json_option, print_json, root_option


def report_version(version, as_json: bool) -> None:
    """Print a derived version: its reference, rows and parents (or the JSON summary)."""
    counts = version.lineage.counts or {}
    drops = version.lineage.drops or {}
    if as_json:
        print_json({"ref": version.ref, "hash": version.hash, "rows": version.rows, "parents": version.parents,
                    "counts": counts, "drops": drops})
    else:
        before = counts.get("before", counts.get("parent_rows"))  # select's lineage counts its parent's rows
        click.echo(f"{version.ref}  {version.rows:,} rows from {', '.join(version.parents)}"
                   + (f"  ({before:,} before)" if isinstance(before, int) else ""))
        if drops:
            click.echo("dropped: " + ", ".join(f"{reason} {n:,}" for reason, n in drops.items()))


@click.command("sample")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("-n", "n", type=click.IntRange(min=0), help="Rows to keep.")
@click.option("--fraction", type=click.FloatRange(0, 1), help="Share of rows to keep.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@root_option
@json_option
def sample_cmd(ref, into, n, fraction, seed, as_json):
    """Random subset of REF in its original order. Example: selfinstruct registry sample alpaca@1 -n 1000 --into alpaca-1k"""
    from registry.derive import sample

    report_version(sample(ref, into=into, n=n, fraction=fraction, seed=seed, root=current_root()), as_json)


@click.command("merge")
@click.argument("refs", nargs=-1, required=True)
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--keep-duplicates", is_flag=True, help="Keep records that appear in more than one input.")
@root_option
@json_option
def merge_cmd(refs, into, keep_duplicates, as_json):
    """Concatenate REFS in order, dropping exact duplicate records. Example: selfinstruct registry merge a@1 b@2 --into ab"""
    from registry.derive import merge

    report_version(merge(refs, into=into, keep_duplicates=keep_duplicates, root=current_root()), as_json)
