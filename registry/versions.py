"""Read side of the registry: list datasets and versions, resolve references, load rows."""

from __future__ import annotations

import json

import polars as pl

from records.hashing import frame_hash
from records.refs import is_hash_prefix, is_name
from records.schema import RECORD_FIELDS
from registry.errors import CorruptError, NotFoundError, RegistryError
from registry.fs import Store, open_store
from registry.manifest import Version, check_manifest, check_seal, version_from_manifest
from registry.names import check_name, parse_ref, raise_not_found
from registry.shards import assemble, read_layout, read_shard


def as_store(root: str | Store | None) -> Store:
    return root if isinstance(root, Store) else open_store(root)


def dataset_dir(store: Store, name: str, *parts: str) -> str:
    return store.path("datasets", check_name(name), *parts)


def manifest_path(store: Store, name: str, number: int) -> str:
    return dataset_dir(store, name, "versions", f"{number:08d}.json")


FOREIGN = "not a dataset: a dataset name has only letters, digits, '.', '_' or '-'; left out"


def list_datasets(root: str | Store | None = None, *, skipped: list[str] | None = None) -> list[str]:
    """Dataset names, sorted. A folder no dataset could be named after (`base copy`, a file manager's
    duplicate) is not a dataset: it is left out, and described in `skipped` when a list is given."""
    store = as_store(root)
    if skipped is not None:
        skipped.extend(f"{path}: {FOREIGN}" for path in foreign_folders(store))
    return [n for n in store.listdir(store.path("datasets")) if not n.startswith(".") and is_name(n)]


def foreign_folders(store: Store) -> list[str]:
    """Paths of entries under datasets/ whose names no dataset may have (hidden ones aside)."""
    return [store.path("datasets", n) for n in store.listdir(store.path("datasets"))
            if not n.startswith(".") and not is_name(n)]


def version_numbers(store: Store, name: str, *, include_removed: bool = False) -> list[int]:
    """Committed version numbers of `name`, ascending (only whole manifests exist, see commit).

    With include_removed, numbers of versions `gc` retired count too, so they are never reused.
    """
    folders = ["versions", "removed"] if include_removed else ["versions"]
    names = [n for f in folders for n in store.listdir(dataset_dir(store, name, f))]
    return sorted({int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit()})


def alias_events(store: Store, name: str) -> list[dict]:
    folder = dataset_dir(store, name, "aliases")
    names = [n for n in store.listdir(folder) if n.endswith(".json") and n[:-5].isdigit()]
    return [read_event(store, f"{folder}/{n}", int(n[:-5])) for n in sorted(names)]


def read_event(store: Store, path: str, seq: int) -> dict:
    """One alias event, checked: well-formed, its own sequence number, seal intact; else CorruptError."""
    event = store.read_json(path)
    ok = (isinstance(event, dict) and event.get("seq") == seq and isinstance(event.get("alias"), str)
          and (event.get("version") is None or (isinstance(event.get("version"), int)
                                                and not isinstance(event.get("version"), bool))))
    if not ok:
        raise CorruptError(f"{path}: not a valid alias event (expected seq {seq}, an alias and a version number)")
    check_seal(event, path)
    return event


def current_aliases(store: Store, name: str) -> dict[str, int]:
    """alias -> version number, after replaying every move and removal in order."""
    out: dict[str, int] = {}
    for event in alias_events(store, name):
        if event.get("version") is None:
            out.pop(event["alias"], None)
        else:
            out[event["alias"]] = int(event["version"])
    return out


def read_version(store: Store, name: str, number: int) -> Version:
    """The version in `name`'s manifest `number`, checked (well-formed, paths inside the root, seal intact)."""
    path = manifest_path(store, name, number)
    return version_from_manifest(check_manifest(store.read_json(path), path, name=name, number=number))


def list_versions(name: str, *, root: str | Store | None = None, skipped: list[str] | None = None) -> list[Version]:
    """Every version of `name`, ascending. A manifest that cannot be read raises, or, when `skipped`
    is a list, is left out and described there (so one damaged entry does not hide the others)."""
    store = as_store(root)
    out = []
    for n in version_numbers(store, name):
        try:
            out.append(read_version(store, name, n))
        except RegistryError as e:
            if skipped is None:
                raise
            skipped.append(f"{name}@{n}: {e}")
    return out


def readable_versions(root: str | Store | None = None, *, skipped: list[str] | None = None) -> list[Version]:
    """Every version in the registry that can be read, for scans such as "which versions name this
    one as a parent"; what is left out is described in `skipped` (`registry verify` reports it too)."""
    store = as_store(root)
    skipped = [] if skipped is None else skipped
    return [v for name in list_datasets(store, skipped=skipped) for v in list_versions(name, root=store,
                                                                                       skipped=skipped)]


def resolve(ref: str, *, root: str | Store | None = None) -> Version:
    """The Version a reference names: `name`, `name@3`, `name@latest`, `name@ALIAS`, `name@HASHPREFIX`."""
    store = as_store(root)
    parsed = parse_ref(ref)
    numbers = version_numbers(store, parsed.name)
    if not numbers:
        raise_not_found("dataset", parsed.name, list_datasets(store))
    sel = parsed.selector
    if sel == "latest":
        return read_version(store, parsed.name, numbers[-1])
    if parsed.number is not None:
        if parsed.number in numbers:
            return read_version(store, parsed.name, parsed.number)
        raise NotFoundError(
            f"unknown version {ref!r}: {parsed.name} has versions {numbers[0]}..{numbers[-1]}"
            if numbers == list(range(numbers[0], numbers[-1] + 1))
            else f"unknown version {ref!r}: {parsed.name} has versions {', '.join(map(str, numbers))}"
        )
    aliases = current_aliases(store, parsed.name)
    if sel in aliases:
        return read_version(store, parsed.name, aliases[sel])
    if is_hash_prefix(sel):
        hits = [v for v in (read_version(store, parsed.name, n) for n in numbers) if v.hash.startswith(sel)]
        if len({v.hash for v in hits}) > 1:
            raise NotFoundError(f"ambiguous hash prefix {ref!r}: matches {', '.join(v.ref for v in hits)}")
        if hits:  # identical content committed twice: the first version that holds it
            return hits[0]
    raise_not_found(f"version or alias of {parsed.name}", sel, ["latest", *aliases, *map(str, numbers)])
    raise AssertionError  # unreachable


def open_version(version: Version, *, root: str | Store | None = None) -> pl.DataFrame:
    """All rows of a resolved version, in commit order; CorruptError unless they hash to the version hash."""
    store = as_store(root)
    m = version.manifest
    try:
        runs = read_layout(store, m["layout"]["path"])
        used = sorted({int(s) for s in runs[:, 0]}) if len(runs) else []
        frames = [read_shard(store, m["shards"][i]["path"]) if i in used else None for i in range(len(m["shards"]))]
        frames = [f if f is not None else empty_frame(m) for f in frames]
        frames = [cast_record_fields(f, m["columns"]) for f in frames]
        frame = assemble(frames, runs, m["columns"]) if len(runs) else empty_frame(m)
    except FileNotFoundError as e:
        raise CorruptError(f"{version.ref}: missing object ({e}); run `selfinstruct registry verify`") from None
    except (IndexError, pl.exceptions.PolarsError) as e:
        raise CorruptError(f"{version.ref}: layout and shards disagree ({type(e).__name__}); "
                           "run `selfinstruct registry verify`") from None
    if frame.height != version.rows or frame_hash(frame) != version.hash:
        raise CorruptError(f"{version.ref}: refusing rows that do not hash to the version hash {version.hash[:12]} "
                           "(a shard or layout was altered); run `selfinstruct registry verify`")
    return frame


def empty_frame(manifest: dict) -> pl.DataFrame:
    """A 0-row frame with the version's columns (the required ones as text, others as recorded when simple)."""
    schema = manifest.get("schema") or {}

    def dtype(c: str):
        found = getattr(pl, str(schema.get(c, "String")), None)
        return found if isinstance(found, type) and issubclass(found, pl.DataType) else pl.String

    return pl.DataFrame(schema={c: pl.String if c in RECORD_FIELDS else dtype(c)
                                for c in manifest["columns"]})


def cast_record_fields(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    # Columns that were all-null in a shard come back as Null; the required fields are always text.
    casts = [pl.col(c).cast(pl.String) for c in RECORD_FIELDS if c in frame.columns]
    return frame.with_columns(casts) if casts else frame


def open(ref: str, *, root: str | Store | None = None) -> pl.DataFrame:  # noqa: A001 - mirrors registry.open
    """The rows of `ref` as a polars DataFrame (columns instruction, input, output, and any extras)."""
    store = as_store(root)
    return open_version(resolve(ref, root=store), root=store)


def dumps(obj) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode()


def walk_ancestry(version: Version, root=None):
    """Yield `version`, then its ancestors breadth first (nearest first), each once.

    A parent missing from the registry is skipped here; verify and the datasheet report it.
    """
    todo, seen = [version], set()
    while todo:
        v = todo.pop(0)
        if v.ref in seen:
            continue
        seen.add(v.ref)
        yield v
        for p in v.parents:
            try:
                todo.append(resolve(p, root=root))
            except RegistryError:
                continue
