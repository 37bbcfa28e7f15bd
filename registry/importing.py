"""Import a file as a version, with lineage that records where it came from."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from records.files import detect_format, read_frame
from records.hashing import frame_hash
from records.lineage import Generator, Lineage, Seeds
from registry.commit import check_frame, commit
from registry.manifest import Version


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_hash(path, fmt: str = "auto") -> str:
    """The content hash `path` would have as a version once imported (nothing is committed)."""
    path = Path(path)
    return frame_hash(check_frame(read_frame(path, detect_format(path) if fmt == "auto" else fmt)))


def import_file(path, *, name: str, fmt: str = "auto", parents: Sequence[str] = (), licence: str | None = None,
                generator: str | None = None, provider: str | None = None, seeds_path: str | None = None,
                root=None) -> Version:
    """Read, validate and commit `path`; nothing is committed when the file is malformed."""
    from registry.versions import as_store

    root = as_store(root)  # an unusable registry root is refused before the file is read
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    frame = read_frame(path, fmt)
    lineage = Lineage(
        operation="import",
        parameters={"format": fmt},
        source={"path": str(path.resolve()), "sha256": file_sha256(path), "bytes": path.stat().st_size},
        counts={"before": frame.height, "after": frame.height},
    )
    if licence:
        lineage.licence = licence
    if generator or provider:
        lineage.generator = Generator(model=generator, provider=provider)
    if seeds_path:
        seeds = Path(seeds_path)
        lineage.seeds = Seeds(name=seeds.stem, path=str(seeds.resolve()), sha256=file_sha256(seeds))
    return commit(frame, name=name, lineage=lineage, parents=parents, root=root)
