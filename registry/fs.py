"""The registry root as an fsspec filesystem, with the few atomic primitives commits rely on."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from records.files import write_bytes_atomic

# Where put-if-absent is atomic: local files (hard link / O_EXCL), fsspec's in-process memory
# filesystem, and S3 through s3fs (PUT with `If-None-Match: *`), the last checked by a probe,
# since some S3-compatible servers ignore the header and would overwrite silently.
_PROBED = ("s3", "s3a")
_ATOMIC = ("memory",)
_conditional: dict[tuple, str | None] = {}  # (protocol, bucket) -> None when supported, else the reason


def default_root() -> str:
    """$SELFINSTRUCT_REGISTRY, else the user data dir (XDG_DATA_HOME or ~/.local/share)/selfinstruct/registry."""
    env = os.environ.get("SELFINSTRUCT_REGISTRY")
    if env:
        return env
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "selfinstruct" / "registry")


@dataclass(frozen=True)
class Store:
    """A registry root: an fsspec filesystem plus the root path inside it."""

    fs: fsspec.AbstractFileSystem
    root: str
    url: str

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def protocol(self) -> str:
        proto = self.fs.protocol
        return proto[0] if isinstance(proto, (tuple, list)) else proto

    def _fresh(self, path: str) -> None:
        # Object-store clients cache listings; other processes commit meanwhile, so never trust them.
        if not self.is_local:
            self.fs.invalidate_cache(path)

    def exists(self, path: str) -> bool:
        self._fresh(path)
        return self.fs.exists(path)

    def read_bytes(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def read_json(self, path: str):
        """The JSON value in `path`; CorruptError naming the file when it is not valid UTF-8 JSON."""
        data = self.read_bytes(path)
        try:
            return json.loads(data)
        except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
            from registry.errors import CorruptError

            raise CorruptError(f"{path}: corrupt JSON ({e}); run `selfinstruct registry verify`") from None

    def listdir(self, path: str) -> list[str]:
        """Base names under `path`, sorted; empty when the folder does not exist."""
        self._fresh(path)
        try:
            entries = self.fs.ls(path, detail=False)
        except FileNotFoundError:
            return []
        return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries)

    def write_atomic(self, path: str, data: bytes) -> None:
        """Replace `path` whole: readers see the old or the new bytes, never a part."""
        if self.is_local:
            write_bytes_atomic(path, data)
        else:  # object stores publish an object whole on close
            self.fs.pipe_file(path, data)

    def put_if_absent(self, path: str, data: bytes) -> bool:
        """Create `path` with `data` unless it exists; True when this call created it.

        Locally the bytes go to a temporary file first and are published with a hard link,
        which fails if the target exists, so a killed writer never leaves a partial file
        (Lance and Delta commit the same way: put-if-absent of the next log entry).
        """
        if self.is_local:
            self.fs.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{os.path.dirname(path)}/.tmp-{uuid.uuid4().hex}"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
                return True
            except FileExistsError:
                return False
            except OSError:  # no hard links here (some network or FAT filesystems): exclusive create
                return self._create_exclusive(path, data)
            finally:
                os.unlink(tmp)
        self.require_conditional_writes()
        return self._create_exclusive(path, data)

    def require_conditional_writes(self) -> None:
        """Return when put-if-absent is atomic here, else StoreUnsupportedError saying why.

        Without it two committers could both claim version N and one version would be lost,
        so the registry refuses to write there (reading still works).
        """
        if self.is_local:
            return
        key = (self.protocol, self.root.split("/", 1)[0])
        if key not in _conditional:
            _conditional[key] = self._probe_conditional_writes()
        reason = _conditional[key]
        if reason:
            from registry.errors import StoreUnsupportedError

            raise StoreUnsupportedError(
                f"refusing to write to the registry at {self.url}: {reason}, so two committers could claim the "
                "same version number and one version would be lost (versions there can still be read; see "
                "docs/registry.md, 'Object stores')")

    def _probe_conditional_writes(self) -> str | None:
        if self.protocol in _ATOMIC:
            return None
        if self.protocol not in _PROBED:
            return f"the {self.protocol!r} filesystem offers no atomic create-if-absent"
        probe = self.path("locks", f".put-if-absent-probe-{uuid.uuid4().hex}")
        try:
            first = self._create_exclusive(probe, b"1")
            second = self._create_exclusive(probe, b"2")
        except (OSError, ValueError, NotImplementedError) as e:
            return f"its conditional create failed ({type(e).__name__}: {e})"
        finally:
            try:
                self.fs.rm(probe)
            except OSError:
                pass
        if not (first and not second):
            return "the server ignores conditional writes (a PUT with If-None-Match: * replaced an existing object)"
        return None

    def _create_exclusive(self, path: str, data: bytes) -> bool:
        try:  # fsspec's exclusive-create mode; s3fs maps it to a conditional put
            with self.fs.open(path, "xb") as f:
                f.write(data)
            return True
        except FileExistsError:
            return False

    def publish_object(self, path: str, data: bytes) -> bool:
        """Write a content-addressed object once; False when it was already there.

        The bytes land under a temporary name and are renamed, so a killed writer leaves at
        most a `.tmp-*` file that `gc` removes and `verify` ignores.
        """
        if self.fs.exists(path):
            return False
        self.write_atomic(path, data)
        return True


def open_store(root: str | None = None) -> Store:
    """The Store for `root` (an fsspec URL or local path), default_root() when None."""
    from registry.errors import RegistryError

    url = root or default_root()
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as e:  # an unknown protocol, or its library missing (s3:// needs s3fs)
        raise RegistryError(f"registry root {url}: {e}") from None
    if isinstance(fs, LocalFileSystem):
        path = os.path.abspath(os.path.expanduser(path))
        if os.path.exists(path) and not os.path.isdir(path):
            raise RegistryError(f"registry root {url} is a file, not a folder")
    try:
        fs.makedirs(path, exist_ok=True)
    except OSError as e:
        raise RegistryError(f"registry root {url} cannot be created ({e.strerror or e})") from None
    return Store(fs=fs, root=path, url=url)
