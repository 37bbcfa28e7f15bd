"""`registry verify`: rehash every shard and row a version lists and name each missing or altered file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from registry.hashing import content_hash, row_digests
from registry.manifest import Version
from registry.shards import layout_hash, read_layout, read_shard
from registry.store import as_store, list_datasets, list_versions, manifest_path, resolve


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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"ok": self.ok, "versions": self.versions, "problems": [p.to_json() for p in self.problems]}


def verify(ref: str | None = None, *, root=None) -> VerifyReport:
    """Check one version (`ref`), every version of a dataset (`name`), or the whole registry (None)."""
    store = as_store(root)
    if ref is None:
        versions = [v for n in list_datasets(store) for v in list_versions(n, root=store)]
    elif "@" in ref:
        versions = [resolve(ref, root=store)]
    else:
        resolve(ref, root=store)  # a clear error for an unknown name
        versions = list_versions(ref, root=store)
    report = VerifyReport()
    shard_cache: dict[str, np.ndarray | str] = {}
    for version in versions:
        report.versions.append(version.ref)
        report.problems.extend(verify_version(store, version, shard_cache))
    return report


def verify_version(store, version: Version, shard_cache: dict) -> list[Problem]:
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
