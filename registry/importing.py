"""Import a file as a version, with lineage that records where it came from."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Sequence
from pathlib import Path

from records.conversations import sniff_chat_format
from records.errors import InputError
from records.files import check_input_file, detect_format, read_frame
from records.hashing import frame_hash
from records.lineage import Generator, Lineage, Seeds
from registry.commit import check_frame, commit
from registry.manifest import Version


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, streamed; a device or a file over the input limit is refused first."""
    check_input_file(path)
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_format(path: Path, fmt: str = "auto") -> str:
    """`fmt`, or for `auto` the format of `path`: from its suffix and first character, and for
    JSON Lines whose first line is a conversation, `messages` or `sharegpt` (kept in the lineage)."""
    if fmt != "auto":
        return fmt
    detected = detect_format(path)
    return (sniff_chat_format(path) or detected) if detected == "jsonl" else detected


def import_hash(path, fmt: str = "auto") -> str:
    """The content hash `path` would have as a version once imported (nothing is committed)."""
    path = Path(path)
    check_input_file(path)
    return frame_hash(check_frame(read_frame(path, import_format(path, fmt))))


def import_file(path, *, name: str, fmt: str = "auto", parents: Sequence[str] = (), licence: str | None = None,
                generator: str | None = None, provider: str | None = None, seeds_path: str | None = None,
                root=None, allow_empty: bool = False) -> Version:
    """Read, validate and commit `path`; nothing is committed when the file is malformed, or holds
    no record (unless `allow_empty`: an empty version on purpose)."""
    from registry.versions import as_store

    root = as_store(root)  # an unusable registry root is refused before the file is read
    path = Path(path)
    if not stat.S_ISREG(check_input_file(path).st_mode):
        raise InputError(path, "is not a regular file (a pipe?): an import reads its file twice, for the rows "
                         "and for the hash its lineage records, so save it to a file first")
    fmt = import_format(path, fmt)
    frame = read_frame(path, fmt)
    if frame.height == 0 and not allow_empty:
        raise InputError(path, "holds no records; nothing was committed (--allow-empty commits an empty version)")
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
