"""Derivations: child versions made from registered versions, with the operation recorded.

`sample` and `merge` need only the registry. `select_rows` takes the row rule as a function, so
derivations that run the generation engine (`filter`, `dedup`) pass it from above the registry
(commands/sieve_version.py) and the registry never imports the engine.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import polars as pl

from records.hashing import row_digests
from records.lineage import Lineage
from registry.commit import commit
from registry.errors import RegistryError
from registry.manifest import Version
from registry.versions import as_store, open_version, resolve


def select_rows(ref: str, *, into: str, select: Callable[[pl.DataFrame], tuple[list[int], dict]],
                root=None) -> Version:
    """A child version of `ref` holding the rows `select(frame)` keeps, in their order.

    `select` returns (row positions to keep, the lineage to record); a caller above the registry passes
    its own rule this way (commands/sieve_version.py passes the generation engine's keep/drop stage).
    """
    store = as_store(root)
    parent = resolve(ref, root=store)
    frame = open_version(parent, root=store)
    keep, lineage = select(frame)
    return commit(frame[keep], name=into, lineage=lineage, parents=[parent.ref], root=store)


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
    lineage = Lineage(operation="sample", parameters={"n": n, "fraction": fraction, "seed": seed},
                      counts={"before": frame.height, "after": k}, drops={"not_sampled": frame.height - k})
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
    lineage = Lineage(operation="merge", parameters={"inputs": [p.ref for p in parents],
                                                      "keep_duplicates": keep_duplicates},
                      counts={"before": before, "after": frame.height,
                              **{f"from {p.ref}": f.height for p, f in zip(parents, frames)}},
                      drops=drops)
    return commit(frame, name=into, lineage=lineage, parents=[p.ref for p in parents], root=store)
