"""Local files the registry writes for people (exports, HTML datasheets): checked first, published whole.

`check_output` runs before any work: the path must be creatable (its nearest existing folder is a
folder we can create files in; a probe file proves it, since permission bits say little to root
or on read-only mounts). `atomic_output` writes under a temporary name beside the target and
renames it into place, so a failure or a kill never leaves a partial file or folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from records.files import atomic_path
from registry.errors import RegistryError

# What a folder written by `export --format hf` holds; only such a folder is replaced by a new export.
HF_FOLDER_ENTRIES = frozenset({"README.md", "data"})


def check_output(path: str | Path, *, folder: bool = False, replaceable=frozenset()) -> Path:
    """`path` as a Path when it can be written (a file, or a folder when `folder`), else RegistryError."""
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise RegistryError(f"{path}: exists and is a file; give a folder path")
        if not folder and path.is_dir():
            raise RegistryError(f"{path}: is a folder; give a file path")
        if folder and set(os.listdir(path)) - set(replaceable):
            raise RegistryError(f"{path}: folder exists and holds other files; give a new or empty folder")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RegistryError(f"{path}: cannot be created, {parent} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=parent)
    except OSError as e:
        raise RegistryError(f"{path}: cannot write in {parent} ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(probe)
    return path


@contextmanager
def atomic_output(path: str | Path, *, folder: bool = False):
    """Yield a temporary path beside `path`; on success it replaces `path` whole, on failure it is removed."""
    path = Path(path)
    if not (folder and path.exists()):
        with atomic_path(path) as tmp:
            if folder:
                tmp.mkdir()
            yield tmp
        return
    new = path.with_name(f".{path.name}.new-{uuid.uuid4().hex}")  # a previous export: build beside it, then swap
    with atomic_path(new) as tmp:
        tmp.mkdir()
        yield tmp
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex}")
    path.rename(old)
    new.rename(path)
    shutil.rmtree(old, ignore_errors=True)
