"""Derivation commands: sample, merge, filter, dedup (each makes a child version with --into NAME)."""

from __future__ import annotations

import click

from registry.cli_common import current_root, friendly_errors, json_option, print_json, root_option


def _report(version, as_json: bool) -> None:
    counts = version.manifest["lineage"].get("counts", {})
    if as_json:
        print_json({"ref": version.ref, "hash": version.hash, "rows": version.rows, "parents": version.parents,
                    "counts": counts, "drops": version.manifest["lineage"].get("drops", {})})
    else:
        click.echo(f"{version.ref}  {version.rows:,} rows from {', '.join(version.parents)}  "
                   f"({counts.get('before', '?'):,} before)")


@click.command("sample")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("-n", "n", type=click.IntRange(min=0), help="Rows to keep.")
@click.option("--fraction", type=click.FloatRange(0, 1), help="Share of rows to keep.")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@root_option
@json_option
@friendly_errors
def sample_cmd(ref, into, n, fraction, seed, as_json):
    """Random subset of REF in its original order. Example: selfinstruct registry sample alpaca@1 -n 1000 --into alpaca-1k"""
    from registry.derive import sample

    _report(sample(ref, into=into, n=n, fraction=fraction, seed=seed, root=current_root()), as_json)


@click.command("merge")
@click.argument("refs", nargs=-1, required=True)
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--keep-duplicates", is_flag=True, help="Keep records that appear in more than one input.")
@root_option
@json_option
@friendly_errors
def merge_cmd(refs, into, keep_duplicates, as_json):
    """Concatenate REFS in order, dropping exact duplicate records. Example: selfinstruct registry merge a@1 b@2 --into ab"""
    from registry.derive import merge

    _report(merge(refs, into=into, keep_duplicates=keep_duplicates, root=current_root()), as_json)


@click.command("filter")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--profile", default="strict", show_default=True, type=click.Choice(["alpaca", "strict"]),
              help="Filter profile of the generation engine.")
@click.option("--language", default="en", show_default=True, help="Language of the records.")
@root_option
@json_option
@friendly_errors
def filter_cmd(ref, into, profile, language, as_json):
    """Drop rows the generation engine's filters reject, counting drops per rule.

    Example: selfinstruct registry filter alpaca@1 --profile strict --into alpaca-strict
    """
    from registry.derive import filter_version

    _report(filter_version(ref, into=into, profile=profile, language=language, root=current_root()), as_json)


@click.command("dedup")
@click.argument("ref")
@click.option("--into", required=True, help="Dataset that receives the child version.")
@click.option("--seeds", "seeds_path", type=click.Path(exists=True, dir_okay=False),
              help="Also drop instructions too close to these seed tasks (JSON Lines with `instruction`).")
@click.option("--rouge-threshold", default=0.7, show_default=True, type=click.FloatRange(0, 1),
              help="Drop an instruction whose ROUGE-L F to a seed or an earlier kept one exceeds this.")
@click.option("--tokenizer", default="rouge", show_default=True, type=click.Choice(["rouge", "unicode"]))
@click.option("--minhash-threshold", type=click.FloatRange(0, 1),
              help="Also drop whole records whose estimated Jaccard to an earlier kept one reaches this.")
@root_option
@json_option
@friendly_errors
def dedup_cmd(ref, into, seeds_path, rouge_threshold, tokenizer, minhash_threshold, as_json):
    """Drop near-duplicates with the generation engine's dedup (in order, as generation does).

    Example: selfinstruct registry dedup alpaca@1 --rouge-threshold 0.7 --into alpaca-dedup
    """
    from pathlib import Path

    from registry.derive import dedup_version
    from registry.novelty import load_seed_instructions

    seeds = load_seed_instructions(seeds_path) if seeds_path else []
    version = dedup_version(ref, into=into, seeds=seeds, rouge_threshold=rouge_threshold, tokenizer=tokenizer,
                            minhash_threshold=minhash_threshold,
                            seeds_name=Path(seeds_path).stem if seeds_path else None, root=current_root())
    _report(version, as_json)
