"""Version: the immutable manifest of one dataset version, and what the registry adds to lineage."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from importlib import metadata

import records
from records.lineage import Lineage
from registry.errors import CorruptError
from registry.shards import ShardRef, check_object_path, layout_relpath

# Format 2 manifests carry `seal`, a hash of every other field (lineage, licence, parents...);
# format 1 manifests (written before sealing) still open and verify, reported as unsealed.
FORMAT = "selfinstruct-registry/2"
FORMATS = ("selfinstruct-registry/1", FORMAT)
# Libraries whose versions change what a dataset means or how it was filtered
# (datasketch MinHash signatures and rouge-score tokenisation differ across releases).
TRACKED_LIBRARIES = ("selfinstruct", "polars", "datasketch", "rouge-score", "fsspec")


@dataclass(frozen=True)
class Version:
    """One immutable dataset version: `name@number`, identified by the content hash of its rows."""

    name: str
    number: int
    hash: str
    manifest: dict = field(compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.number}"

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])

    @property
    def parents(self) -> list[str]:
        return [p["ref"] for p in self.manifest.get("parents", [])]

    @property
    def created(self) -> str:
        return self.manifest["created"]

    @property
    def lineage(self) -> Lineage:
        """How the rows were made (empty for a manifest that records none)."""
        return Lineage.from_dict(self.manifest.get("lineage"))


def software_versions() -> dict:
    """Versions of the toolkit and the libraries that shape the data, recorded in every manifest."""
    out = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("selfinstruct") is None:  # run from a checkout, not installed: the tree's own version
        out["selfinstruct"] = records.__version__
    return out


def version_from_manifest(manifest: dict) -> Version:
    return Version(manifest["name"], int(manifest["number"]), manifest["hash"], manifest)


def as_stored(record: dict) -> dict:
    """`record` as it reads back from its JSON file (tuples become lists, odd types text)."""
    return json.loads(json.dumps(record, ensure_ascii=False, default=str))


def seal_of(record: dict) -> str:
    """SHA-256 of a stored record's canonical JSON without its `seal` field (manifests, alias events)."""
    body = {k: v for k, v in as_stored(record).items() if k != "seal"}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def sealed(record: dict) -> dict:
    """The stored form of `record` with its seal added."""
    out = as_stored(record)
    out["seal"] = seal_of(out)
    return out


def check_seal(record: dict, path: str) -> bool:
    """True when `record` carries a matching seal, False when it has none; CorruptError when it differs."""
    if "seal" not in record:
        return False
    if record["seal"] != seal_of(record):
        raise CorruptError(f"{path}: edited after it was written (its seal does not match its fields); "
                           "run `selfinstruct registry verify`")
    return True


def check_manifest(manifest, path: str, *, name: str | None = None, number: int | None = None) -> dict:
    """`manifest` if it is a well-formed manifest whose object paths stay inside the root, else CorruptError."""
    def bad(why: str):
        raise CorruptError(f"{path}: not a valid manifest ({why})")

    if not isinstance(manifest, dict):
        bad(f"expected a JSON object, got {type(manifest).__name__}")
    if manifest.get("format", FORMATS[0]) not in FORMATS:
        bad(f"unknown format {manifest.get('format')!r}")
    if manifest.get("format") == FORMAT and "seal" not in manifest:
        bad("format 2 manifest without its seal")
    for key, kind in (("name", str), ("number", int), ("hash", str), ("rows", int), ("columns", list),
                      ("shards", list), ("layout", dict)):
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            bad(f"field {key!r} missing or not {kind.__name__}")
    if name is not None and manifest["name"] != name or number is not None and manifest["number"] != number:
        bad(f"it names {manifest['name']}@{manifest['number']}")
    for i, entry in enumerate(manifest["shards"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            bad(f"shard {i} has no hash")
        check_object_path(entry.get("path"), path)
        if entry["path"] != ShardRef(entry["hash"], 0, 0).relpath:
            bad(f"shard {i} path does not match its hash")
    layout = manifest["layout"]
    check_object_path(layout.get("path"), path)
    if not isinstance(layout.get("hash"), str) or layout["path"] != layout_relpath(layout["hash"]):
        bad("layout path does not match its hash")
    check_seal(manifest, path)
    return manifest
