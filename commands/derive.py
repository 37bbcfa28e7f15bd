"""`registry filter` and `registry dedup`: the generation engine's checks and dedup applied to a
registered version. They are composed here, at the CLI layer (open the version -> run the
selfinstruct stage -> commit the kept rows as a child), so the registry never imports the engine
and a derived version is cleaned exactly as a generation run would clean it.

Importing this module mounts both commands on the `registry` group; the top-level CLI takes the
group from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click

from registry.cli import registry
from registry.cli_common import current_root, friendly_errors, json_option, root_option
from registry.cli_derive import report_version
from registry.commit import commit
from registry.manifest import Version
from registry.versions import as_store, open_version, resolve


def filter_version(ref: str, *, into: str, profile: str = "strict", language: str = "en", root=None) -> Version:
    """Drop rows the generation engine's filters reject, counting drops per rule."""
    from selfinstruct.filters import filter_reason

    store = as_store(root)
    parent = resolve(ref, root=store)
    frame = open_version(parent, root=store)
    reasons = [filter_reason(r, profile=profile, language=language) for r in frame.iter_rows(named=True)]
    keep = [i for i, r in enumerate(reasons) if r is None]
    lineage = {"operation": "filter", "parameters": {"profile": profile, "language": language},
               "filters": {"profile": profile, "language": language},
               "counts": {"before": frame.height, "after": len(keep)},
               "drops": dict(Counter(r for r in reasons if r is not None).most_common())}
    return commit(frame[keep], name=into, lineage=lineage, parents=[parent.ref], root=store)


def dedup_version(ref: str, *, into: str, seeds: Sequence[str] = (), rouge_threshold: float = 0.7,
                  tokenizer: str = "rouge", minhash_threshold: float | None = None, seeds_name: str | None = None,
                  root=None) -> Version:
    """Drop near-duplicate rows with the generation engine's dedup (ROUGE-L vs seeds and kept rows)."""
    from selfinstruct.dedup import dedup_records

    store = as_store(root)
    parent = resolve(ref, root=store)
    frame = open_version(parent, root=store)
    decisions = dedup_records(frame.to_dicts(), seeds=seeds, rouge_threshold=rouge_threshold,
                              tokenizer=tokenizer, minhash_threshold=minhash_threshold)
    keep = sorted(d.index for d in decisions if d.kept)
    params = {"rouge_threshold": rouge_threshold, "tokenizer": tokenizer, "minhash_threshold": minhash_threshold,
              "seeds": len(seeds), "seeds_name": seeds_name}
    lineage = {"operation": "dedup", "parameters": params, "filters": params,
               "counts": {"before": frame.height, "after": len(keep)},
               "drops": dict(Counter(d.reason or "duplicate" for d in decisions if not d.kept).most_common())}
    return commit(frame[keep], name=into, lineage=lineage, parents=[parent.ref], root=store)


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
    report_version(filter_version(ref, into=into, profile=profile, language=language, root=current_root()), as_json)


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
    from registry.novelty import load_seed_instructions

    seeds = load_seed_instructions(seeds_path) if seeds_path else []
    version = dedup_version(ref, into=into, seeds=seeds, rouge_threshold=rouge_threshold, tokenizer=tokenizer,
                            minhash_threshold=minhash_threshold,
                            seeds_name=Path(seeds_path).stem if seeds_path else None, root=current_root())
    report_version(version, as_json)


registry.add_command(filter_cmd)
registry.add_command(dedup_cmd)
