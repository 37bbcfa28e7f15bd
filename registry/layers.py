"""Score layers: one number per record of a version (and, from a judge, its reason), kept beside it.

    write_layer(version, "judge", frame, scorer={...}, usage={...}, reused=120)
    list_layers(version)             # the layers' sealed manifests, by name
    read_layer(version, "judge")     # record, score, reason: one row per distinct record
    version_scores(version, ["judge"])  # the version's rows' scores, in row order

A layer is keyed by the record's content hash (`records.hashing.row_digests`), so a score belongs
to the record, not to its position: a derived version holding the same record reuses its score
(`reusable_scores`). The layer's rows are a content-addressed Parquet object like a shard; its
manifest, `datasets/NAME/layers/NNNNNNNN/LAYER.json`, is written once and sealed like a version's,
and names the object's hash, so `registry verify` notices an edit to either. A missing score (a
judge reply that could not be read) is a null, counted in the manifest, never a guess.
"""

from __future__ import annotations

import hashlib
import json
import re

import polars as pl

from records.hashing import frame_hash, row_digests
from records.timestamps import iso_utc
from registry.errors import CorruptError, RegistryError
from registry.manifest import Version, check_seal, sealed
from registry.shards import check_object_path, frame_to_parquet, read_object
from registry.versions import as_store, dataset_dir, dumps, open_version

FORMAT = "selfinstruct-layer/1"
LAYER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
SCHEMA = {"record": pl.String, "score": pl.Float64, "reason": pl.String}


class LayerExistsError(RegistryError):
    """The version already has a layer of that name (layers are written once)."""


def check_layer_name(name: str) -> str:
    if not isinstance(name, str) or not LAYER_NAME.fullmatch(name):
        raise RegistryError(f"layer name {name!r}: use 1-40 lowercase letters, digits, '-' or '_', starting "
                            "with a letter")
    return name


# Recorded in a layer's lineage but not part of what a score means: the same model with the same
# prompt (by hash) and decoding scores alike whichever host serves it and wherever the prompt file is.
NOT_IN_KEY = ("endpoint_host", "prompt")


def settings_key(scorer: dict) -> str:
    """What makes two scores of one record the same score: the scorer's settings, hashed."""
    kept = {k: v for k, v in scorer.items() if k not in NOT_IN_KEY}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def record_hashes(frame: pl.DataFrame) -> list[str]:
    """Each row's record hash, hex: the key of its scores in every layer."""
    return [d.hex() for d in row_digests(frame)]


def _folder(store, version: Version) -> str:
    return dataset_dir(store, version.name, "layers", f"{version.number:08d}")


def _manifest_path(store, version: Version, name: str) -> str:
    return f"{_folder(store, version)}/{name}.json"


def write_layer(version: Version, name: str, scores: pl.DataFrame, *, scorer: dict, usage: dict | None = None,
                reused: int = 0, root=None) -> dict:
    """Store `scores` (record, score, reason) as the layer `name` of `version`; returns its manifest.

    Refuses a name the version already uses; the rows are sorted by record hash, so the same
    scores are the same object."""
    store = as_store(root)
    check_layer_name(name)
    frame = scores.select([pl.col(c).cast(t) for c, t in SCHEMA.items()]).unique("record", keep="first")
    frame = frame.sort("record")
    digest = frame_hash(frame)
    relpath = f"objects/{digest[:2]}/{digest}.parquet"
    if not store.exists(store.path(relpath)):
        store.publish_object(store.path(relpath), frame_to_parquet(frame))
    missing = frame.filter(pl.col("score").is_null()).height
    manifest = sealed({
        "format": FORMAT, "name": name, "version": version.ref, "version_hash": version.hash,
        "object": {"path": relpath, "hash": digest}, "records": frame.height, "scored": frame.height - missing,
        "missing": missing, "reused": reused, "scorer": scorer, "settings_key": settings_key(scorer),
        "usage": usage or {}, "created": iso_utc(),
    })
    if not store.put_if_absent(_manifest_path(store, version, name), dumps(manifest)):
        raise LayerExistsError(f"{version.ref} already has a layer named {name!r}; layers are written once: "
                               "choose another name with --as")
    return manifest


def list_layers(version: Version, *, root=None, skipped: list[str] | None = None) -> dict[str, dict]:
    """The version's layers: name -> sealed manifest (checked), in name order. A damaged manifest
    raises, or, when `skipped` is a list, is left out and described there."""
    store = as_store(root)
    out = {}
    for name, path in _manifest_paths(store, version):
        try:
            out[name] = check_layer_manifest(store.read_json(path), path)
        except CorruptError as e:
            if skipped is None:
                raise
            skipped.append(str(e))
    return out


def _manifest_paths(store, version: Version) -> list[tuple[str, str]]:
    """(layer name, manifest path) of each layer file of `version` (temporary files left out)."""
    folder = _folder(store, version)
    return [(entry[:-5], f"{folder}/{entry}") for entry in store.listdir(folder)
            if entry.endswith(".json") and not entry.startswith(".")]


def check_layer_manifest(manifest, path: str) -> dict:
    """`manifest` if well formed and sealed, else CorruptError naming `path`."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "seal" not in manifest:
        raise CorruptError(f"{path}: not a valid score layer manifest")
    check_object_path((manifest.get("object") or {}).get("path"), path)
    check_seal(manifest, path)
    return manifest


def read_layer(version: Version, name: str, *, root=None, manifest: dict | None = None) -> pl.DataFrame:
    """The layer's rows (record, score, reason), one per distinct record; CorruptError if its object
    does not hold what the manifest recorded."""
    store = as_store(root)
    if manifest is None:
        layers = list_layers(version, root=store)
        if name not in layers:
            raise RegistryError(f"{version.ref} has no layer {name!r}" +
                                (f" (it has {', '.join(layers)})" if layers else " (it has none: see registry score)"))
        manifest = layers[name]
    frame = read_object(store, manifest["object"]["path"])
    if frame_hash(frame) != manifest["object"]["hash"]:
        raise CorruptError(f"{manifest['object']['path']}: layer {name!r} of {version.ref} was edited after it "
                           "was written (its rows do not match the hash its manifest records)")
    return frame


def version_scores(version: Version, names: list[str], *, root=None, frame: pl.DataFrame | None = None) -> pl.DataFrame:
    """The version's rows with a column per layer (its score) and, where the layer has reasons,
    NAME_reason; in row order."""
    store = as_store(root)
    frame = open_version(version, root=store) if frame is None else frame
    out = frame.with_columns(pl.Series("__record", record_hashes(frame), dtype=pl.String))
    for name in names:
        layer = read_layer(version, name, root=store)
        columns = [pl.col("score").alias(name)]
        if layer.get_column("reason").null_count() < layer.height:
            columns.append(pl.col("reason").alias(f"{name}_reason"))
        out = out.join(layer.select(pl.col("record").alias("__record"), *columns), on="__record", how="left",
                       maintain_order="left")
    return out.drop("__record")


def reusable_scores(versions, key: str, *, root=None) -> dict[str, tuple[float | None, str | None]]:
    """record -> (score, reason) from every layer of `versions` made with the same scorer settings."""
    store = as_store(root)
    found: dict[str, tuple[float | None, str | None]] = {}
    for version in versions:
        for name, manifest in list_layers(version, root=store).items():
            if manifest.get("settings_key") != key:
                continue
            layer = read_layer(version, name, root=store, manifest=manifest)
            for record, score, reason in layer.iter_rows():
                if score is not None:  # a missing score is asked again
                    found.setdefault(record, (score, reason))
    return found


def layer_objects(version: Version, *, root=None) -> set[str]:
    """The object paths the version's layers keep alive (for gc)."""
    store = as_store(root)
    try:
        return {m["object"]["path"] for m in list_layers(version, root=store).values()}
    except CorruptError:
        return set()


def verify_layers(version: Version, *, root=None) -> list[tuple[str, str]]:
    """(path, problem) for each layer of `version` whose manifest or rows were changed."""
    store = as_store(root)
    problems = []
    for name, path in _manifest_paths(store, version):
        try:
            manifest = check_layer_manifest(store.read_json(path), path)
            if manifest["version_hash"] != version.hash:
                raise CorruptError(f"{path}: scores another content ({manifest['version_hash'][:12]}) than "
                                   f"{version.ref} ({version.hash[:12]})")
            read_layer(version, name, root=store, manifest=manifest)
        except (CorruptError, OSError) as e:
            problems.append((path, str(e)))
    return problems
