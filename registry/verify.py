"""`registry verify`: rehash every shard and row a version lists and name each missing or altered file.

It also checks each manifest's seal (which covers lineage, licence and parents), that every
object path stays inside the root, that parents still hold the hash recorded for them, and that
alias events are intact and point at versions that exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from records.hashing import content_hash, row_digests
from registry.errors import RegistryError
from registry.manifest import Version
from registry.names import parse_ref
from registry.row_facts import verify_facts
from registry.shards import layout_hash, read_layout, read_shard
from registry.versions import alias_events
from registry.versions import FOREIGN, as_store, foreign_folders, list_datasets, manifest_path, read_version
from registry.versions import resolve, version_numbers


@dataclass
class Problem:
    """One failed check: which version, which file, what is wrong."""

    version: str
    path: str
    problem: str

    def to_json(self) -> dict:
        return {"version": self.version, "path": self.path, "problem": self.problem}


@dataclass
class VerifyReport:
    versions: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsealed: list[str] = field(default_factory=list)  # format-1 manifests: rows checked, lineage not covered

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"ok": self.ok, "versions": self.versions, "problems": [p.to_json() for p in self.problems],
                "unsealed": self.unsealed}


def verify(ref: str | None = None, *, root=None) -> VerifyReport:
    """Check one version (`ref`), every version of a dataset (`name`), or the whole registry (None)."""
    store = as_store(root)
    report = VerifyReport()
    if ref is not None and "@" in ref:
        name = parse_ref(ref).name
        try:
            targets = [(name, resolve(ref, root=store).number)]
        except RegistryError as e:
            if not version_numbers(store, name):
                raise
            report.problems.append(Problem(ref, "", str(e)))  # e.g. a corrupt alias or manifest on the way
            targets = []
    else:
        names = list_datasets(store) if ref is None else [ref]
        if ref is None:
            report.problems.extend(Problem("<registry>", path, FOREIGN) for path in foreign_folders(store))
        if ref is not None and not version_numbers(store, ref):
            resolve(ref, root=store)  # a clear error for an unknown name
        targets = [(n, k) for n in names for k in version_numbers(store, n)]
        for n in names:
            report.problems.extend(check_aliases(store, n))
    shard_cache: dict[str, np.ndarray | str] = {}
    for name, number in targets:
        ref_n = f"{name}@{number}"
        report.versions.append(ref_n)
        try:
            version = read_version(store, name, number)
        except RegistryError as e:
            report.problems.append(Problem(ref_n, manifest_path(store, name, number), str(e)))
            continue
        if "seal" not in version.manifest:
            report.unsealed.append(ref_n)
        report.problems.extend(check_parents(store, version))
        report.problems.extend(verify_version(store, version, shard_cache))
    return report


def check_parents(store, version: Version) -> list[Problem]:
    """A parent that still exists must hold the content hash this manifest recorded for it."""
    out = []
    for p in version.manifest.get("parents", []):
        try:
            parent = resolve(p["ref"], root=store)
        except RegistryError:
            continue  # retired or never here: the datasheet says so; nothing to compare
        if parent.hash != p.get("hash"):
            out.append(Problem(version.ref, manifest_path(store, version.name, version.number),
                               f"parent {p['ref']} has hash {parent.hash[:12]}, the manifest records "
                               f"{str(p.get('hash'))[:12]}"))
    return out


def check_aliases(store, name: str) -> list[Problem]:
    """Alias events must be intact, and every current alias must name a version that exists."""
    try:
        events = alias_events(store, name)
    except RegistryError as e:
        return [Problem(f"{name}@<aliases>", "", str(e))]
    current: dict[str, int] = {}
    for e in events:
        if e["version"] is None:
            current.pop(e["alias"], None)
        else:
            current[e["alias"]] = e["version"]
    existing = set(version_numbers(store, name))
    return [Problem(f"{name}@{alias}", "", f"alias points at version {number}, which does not exist")
            for alias, number in current.items() if number not in existing]


def verify_version(store, version: Version, shard_cache: dict) -> list[Problem]:
    """The version's shards, layout and rows, then its score layers and its stored facts."""
    from registry.layers import verify_layers

    layers = [Problem(version.ref, path, problem) for path, problem in verify_layers(version, root=store)]
    facts = [Problem(version.ref, path, problem) for path, problem in verify_facts(store, version)]
    return _verify_rows(store, version, shard_cache) + layers + facts


def _verify_rows(store, version: Version, shard_cache: dict) -> list[Problem]:
    m, problems = version.manifest, []
    digests_by_shard = []
    for entry in m["shards"]:
        got = shard_cache.get(entry["hash"])
        if got is None:
            got = shard_cache[entry["hash"]] = check_shard(store, entry, m["columns"])
        if isinstance(got, str):
            problems.append(Problem(version.ref, store.path(entry["path"]), got))
        digests_by_shard.append(got)
    layout_file = store.path(m["layout"]["path"])
    try:
        runs = read_layout(store, m["layout"]["path"])
    except FileNotFoundError:
        return problems + [Problem(version.ref, layout_file, "missing")]
    except Exception as e:  # noqa: BLE001 - any unreadable file is a finding, not a crash
        return problems + [Problem(version.ref, layout_file, f"unreadable ({type(e).__name__})")]
    if layout_hash(runs) != m["layout"]["hash"]:
        return problems + [Problem(version.ref, layout_file, "altered (layout hash differs)")]
    if problems:
        return problems
    rows = [digests_by_shard[s][a:a + n] for s, a, n in runs]
    flat = np.concatenate(rows) if rows else np.zeros((0, 32), dtype=np.uint8)
    if len(flat) != m["rows"] or content_hash(m["columns"], [r.tobytes() for r in flat]) != m["hash"]:
        problems.append(Problem(version.ref, manifest_path(store, version.name, version.number),
                                "rows do not hash to the version hash"))
    return problems


def check_shard(store, entry: dict, columns: list[str]) -> np.ndarray | str:
    """The shard's row digests as an (n, 32) array, or the reason it fails."""
    try:
        frame = read_shard(store, entry["path"])
    except FileNotFoundError:
        return "missing"
    except Exception as e:  # noqa: BLE001
        return f"unreadable ({type(e).__name__}: {str(e)[:80]})"
    frame = frame.select([c for c in columns if c in frame.columns])
    digests = row_digests(frame)
    if frame.height != entry["rows"] or content_hash(frame.columns, digests) != entry["hash"]:
        return "altered (rows do not hash to the shard name)"
    return np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32)
