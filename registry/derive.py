"""Derivations: child versions made from registered versions, with the operation recorded.

`sample` and `merge` need only the registry; `filter` and `dedup` reuse the generation engine's
rules (`selfinstruct.filters`, `selfinstruct.dedup`) so a derived version is cleaned exactly as a
generation run would clean it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import polars as pl

from registry.commit import commit
from registry.errors import RegistryError
from records.hashing import row_digests
from registry.manifest import Version
from registry.store import as_store, open_version, resolve


def sample(ref: str, *, into: str, n: int | None = None, fraction: float | None = None, seed: int = 0,
           root=None) -> Version:
    """A random subset of `ref` (n rows or a fraction), kept in the original order."""
    store = as_store(root)
    parent = resolve(ref, root=store)
    frame = open_version(parent, root=store)
    if (n is None) == (fraction is None):
        raise RegistryError("sample needs exactly one of n or fraction")
    k = n if n is not None else round(frame.height * fraction)
    if not 0 <= k <= frame.height:
        raise RegistryError(f"cannot sample {k} rows from {parent.ref}, which has {frame.height:,}")
    # Python's Random is stable across releases, unlike a dataframe library's sampler.
    keep = sorted(random.Random(seed).sample(range(frame.height), k))
    lineage = {"operation": "sample", "parameters": {"n": n, "fraction": fraction, "seed": seed},
               "counts": {"before": frame.height, "after": k}, "drops": {"not_sampled": frame.height - k}}
    return commit(frame[keep], name=into, lineage=lineage, parents=[parent.ref], root=store)


def merge(refs: Sequence[str], *, into: str, keep_duplicates: bool = False, root=None) -> Version:
    """Concatenate versions in order; exact duplicate records (same record hash) are kept once unless asked."""
    store = as_store(root)
    if len(refs) < 2:
        raise RegistryError("merge needs at least two versions")
    parents = [resolve(r, root=store) for r in refs]
    frames = [open_version(p, root=store) for p in parents]
    frame = pl.concat(frames, how="diagonal_relaxed")
    before = frame.height
    drops: dict[str, int] = {}
    if not keep_duplicates:
        seen, keep = set(), []
        for i, d in enumerate(row_digests(frame)):
            if d not in seen:
                seen.add(d)
                keep.append(i)
        drops["exact_duplicate"] = before - len(keep)
        frame = frame[keep]
    lineage = {"operation": "merge", "parameters": {"inputs": [p.ref for p in parents],
                                                     "keep_duplicates": keep_duplicates},
               "counts": {"before": before, "after": frame.height,
                          **{f"from {p.ref}": f.height for p, f in zip(parents, frames)}},
               "drops": drops}
    return commit(frame, name=into, lineage=lineage, parents=[p.ref for p in parents], root=store)


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
