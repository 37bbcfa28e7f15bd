"""Every fact a datasheet states, gathered from the manifest, the rows and the side logs at render time."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from records.hashing import row_digests
from records.lineage import Lineage
from records.schema import RECORD_FIELDS
from records.seeds import read_seed_instructions
from registry.evaluations import trained_models
from registry.human import human_sections
from registry.layer_facts import layer_summaries
from registry.licence import effective_class, hub_licence, inherited_conditions
from registry.manifest import Version
from registry.novelty import DEFAULT_SAMPLE, nearest_seed_rouge
from registry.row_facts import row_facts, share_counts
from registry.uses import list_uses
from registry.versions import current_aliases
from registry.versions import as_store, open_version, readable_versions, resolve, walk_ancestry


def size_category(n: int) -> str:
    """The Hub's size_categories bucket for n rows."""
    edges = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
             (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]
    return next((label for edge, label in edges if n < edge), "n>100M")


def nearest_with(version: Version, store, wanted) -> Version | None:
    """This version, else the nearest ancestor (breadth first), whose lineage satisfies `wanted`."""
    return next((v for v in walk_ancestry(version, root=store) if wanted(v.lineage)), None)


def is_machine_generated(version: Version, store) -> bool:
    """True when this version or an ancestor records a generator model."""
    return nearest_with(version, store, lambda lin: bool(lin.generator)) is not None


def find_seeds(version: Version, store, seeds_path: str | Path | None) -> Path | None:
    """The seed file to measure novelty against: the one given, else the nearest one the lineage names."""
    if seeds_path:
        return Path(seeds_path)

    def recorded(lin: Lineage) -> bool:
        return bool(lin.seeds and lin.seeds.path) and Path(lin.seeds.path).exists()

    found = nearest_with(version, store, recorded)
    return Path(found.lineage.seeds.path) if found else None


def collect_facts(version: Version, *, root=None, frame: pl.DataFrame | None = None,
                  seeds_path: str | Path | None = None, novelty_sample: int = DEFAULT_SAMPLE) -> dict:
    store = as_store(root)
    return content_facts(version, root=store, frame=frame, seeds_path=seeds_path,
                         novelty_sample=novelty_sample) | side_facts(version, root=store)


def content_facts(version: Version, *, root=None, frame: pl.DataFrame | None = None, rows=None,
                  seeds_path: str | Path | None = None, novelty_sample: int = DEFAULT_SAMPLE) -> dict:
    """The facts fixed by the version itself (its manifest, rows and ancestors): they never change,
    so a long-running reader may keep them by content hash. What the rows alone fix comes from the
    version's stored facts (registry/row_facts.py); the rows are read only for what needs them: a
    version without stored facts, the share of each parent, novelty (`frame`: the rows, when at hand;
    `rows()`: how to get them, called only then; default opening the version). Novelty is measured
    against the seed file the lineage names, as it is when this is called."""
    store = as_store(root)
    m = version.manifest
    opened: list[pl.DataFrame] = [] if frame is None else [frame]

    def all_rows() -> pl.DataFrame:
        if not opened:
            opened.append(rows() if rows is not None else open_version(version, root=store))
        return opened[0]

    kept = row_facts(version, root=store, rows=all_rows)
    facts: dict = {
        "ref": version.ref, "name": version.name, "number": version.number, "hash": version.hash,
        "created": m["created"], "rows": version.rows, "columns": m["columns"], "schema": m["schema"],
        "registry": store.url, "lineage": m.get("lineage") or {}, "software": m.get("software", {}),
        "parents": m.get("parents", []), "storage": m.get("storage", {}),
        "stats": kept["stats"], "lengths": kept["lengths"], "length_bins": kept["length_bins"],
        "verbs": kept["verbs"],
        "machine_generated": is_machine_generated(version, store),
        # Where the rows were collected: this version or its nearest ancestor that records it.
        "origin": _origin(version, store),
        "size_category": size_category(version.rows),
        "arrow_bytes": kept["arrow_bytes"],  # the Hub's splits.num_bytes: the rows as Arrow
    }
    facts["parent_share"] = parent_share(store, version, all_rows, kept.get("parent_shares"))
    conditions = inherited_conditions(m, lambda ref: resolve(ref, root=store).manifest)
    facts["conditions"] = [c.__dict__ for c in conditions]
    facts["use_class"] = effective_class(conditions)
    facts["hub_licence"] = hub_licence(m, conditions)
    seeds = find_seeds(version, store, seeds_path)
    facts["novelty"] = (nearest_seed_rouge(all_rows().get_column("instruction").to_list(), read_seed_instructions(seeds),
                                           sample=novelty_sample) | {"seed_file": str(seeds)}) if seeds else None
    return facts


def side_facts(version: Version, *, root=None, layers_of=None) -> dict:
    """The facts that grow after the commit, read from the side logs: aliases, uses, models trained
    on the version and their scores, human answers, later versions naming it as a parent, and the
    score layers written for it since (`layers_of(version, skipped)` gives their summaries, for a
    caller that keeps them; default `layer_summaries`)."""
    store = as_store(root)
    damaged: list[str] = []
    return {
        "layers": (layers_of(version, damaged) if layers_of else
                   layer_summaries(version, root=store, skipped=damaged)),
        "damaged_layers": damaged,
        "aliases": sorted(a for a, n in current_aliases(store, version.name).items() if n == version.number),
        "uses": list_uses(version, root=store),
        "trained_models": trained_models(version, root=store),
        "human": human_sections(version, root=store),
        "children": children_of(store, version),
    }


def parent_share(store, version: Version, rows, known: dict | None = None) -> list[dict]:
    """For each parent: rows of this version (`rows()`) whose record hash the parent also holds.
    `known`: parent hash -> {"shared", "parent_rows"}, as the commit counted them (row_facts.py)."""
    if not version.parents:
        return []
    known = known or {}
    mine: list[bytes] = []
    out = []
    for p in version.parents:
        try:
            parent = resolve(p, root=store)
            counted = known.get(parent.hash)
            if counted is None:
                mine = mine or row_digests(rows())
                counted = share_counts(mine, set(row_digests(open_version(parent, root=store))))
        except Exception:  # noqa: BLE001
            out.append({"parent": p, "shared": None})
            continue
        out.append({"parent": p, "shared": counted["shared"],
                    "share": round(counted["shared"] / max(1, version.rows), 4), "parent_rows": counted["parent_rows"]})
    return out


def children_of(store, version: Version) -> list[str]:
    """Later versions anywhere in the registry that name this one as a parent (errata, updates)."""
    return [v.ref for v in readable_versions(store) if version.ref in v.parents]


def _origin(version: Version, store) -> dict | None:
    """The nearest version that records a generator, else the nearest import or generation."""
    found = (nearest_with(version, store, lambda lin: bool(lin.generator))
             or nearest_with(version, store, lambda lin: lin.operation in ("generate", "import")))
    return {"ref": found.ref, "lineage": found.manifest.get("lineage") or {}} if found else None
