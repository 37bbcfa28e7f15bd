"""Filter or deduplicate a registry version with the generation engine's keep/drop stage.

The one place the two packages meet for a derived version: `registry.derive.select_rows` opens the
version and commits the kept rows, `selfinstruct.decide.sieve_records` decides the rows exactly as a
generation run decides its candidates. It sits in commands/ because that is the only layer above
both (the registry never imports the engine), and it imports no click, so Python callers use it as
the library it is:

    from commands.sieve_version import sieve_version
    from selfinstruct.sieve_options import SieveOptions
    sieve_version("alpaca@1", into="alpaca-dedup", options=SieveOptions(filters=None, minhash_threshold=0.8))
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from registry.derive import select_rows
from registry.manifest import Version
from selfinstruct.decide import sieve_records
from selfinstruct.sieve_options import SieveOptions


def sieve_version(ref: str, *, into: str, options: SieveOptions, seeds: Sequence[str] = (),
                  seeds_name: str | None = None, root=None) -> Version:
    """A child version of `ref` with the rows the stage keeps, in order. Its lineage names the
    operation (filter, dedup, or sieve for both), the options, the counts and the drops per reason."""
    seeds = list(seeds)
    operation, parameters = lineage_parameters(options, seeds, seeds_name)

    def select(frame: pl.DataFrame) -> tuple[list[int], dict]:
        sieved = sieve_records(frame.iter_rows(named=True), options, seeds=seeds)
        return sieved.kept, {"operation": operation, "parameters": parameters, "filters": parameters,
                             "counts": sieved.counts, "drops": dict(sieved.drops.most_common())}

    return select_rows(ref, into=into, select=select, root=root)


def lineage_parameters(options: SieveOptions, seeds: Sequence[str], seeds_name: str | None) -> tuple[str, dict]:
    """(operation, parameters) as a derived version records them: only the rules that ran."""
    checks = {"profile": options.filters, "language": options.language} if options.filters else {}
    dedup = {}
    if options.rouge_threshold is not None or options.minhash_threshold is not None:
        dedup = {"rouge_threshold": options.rouge_threshold, "tokenizer": options.rouge_tokenizer,
                 "minhash_threshold": options.minhash_threshold, "seeds": len(seeds), "seeds_name": seeds_name}
    operation = "sieve" if checks and dedup else "filter" if checks else "dedup"
    return operation, {**checks, **dedup}


def filter_version(ref: str, *, into: str, profile: str = "strict", language: str = "en", root=None) -> Version:
    """Drop rows the generation engine's quality checks reject, counting drops per check."""
    return sieve_version(ref, into=into, options=SieveOptions(filters=profile, language=language, rouge_threshold=None),
                         root=root)


def dedup_version(ref: str, *, into: str, seeds: Sequence[str] = (), rouge_threshold: float | None = 0.7,
                  tokenizer: str = "rouge", minhash_threshold: float | None = None, seeds_name: str | None = None,
                  root=None) -> Version:
    """Drop near-duplicate rows (ROUGE-L against the seeds and earlier kept rows, optional MinHash)."""
    options = SieveOptions(filters=None, rouge_threshold=rouge_threshold, rouge_tokenizer=tokenizer,
                           minhash_threshold=minhash_threshold)
    return sieve_version(ref, into=into, options=options, seeds=seeds, seeds_name=seeds_name, root=root)
