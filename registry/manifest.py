"""Version: the immutable manifest of one dataset version, and what the registry adds to lineage."""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import dataclass, field
from importlib import metadata

FORMAT = "selfinstruct-registry/1"
REQUIRED_COLUMNS = ("instruction", "input", "output")
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


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def software_versions() -> dict:
    """Versions of the toolkit and the libraries that shape the data, recorded in every manifest."""
    out = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    if out.get("selfinstruct") is None:
        try:
            import selfinstruct

            out["selfinstruct"] = selfinstruct.__version__
        except ImportError:
            pass
    return out


def version_from_manifest(manifest: dict) -> Version:
    return Version(manifest["name"], int(manifest["number"]), manifest["hash"], manifest)
