"""Data behind list, show and log, as plain dicts (the CLI prints them as tables or JSON)."""

from __future__ import annotations

from registry.diff import flatten
from registry.evaluations import trained_models
from registry.layer_facts import layer_summaries
from registry.stats import basic_stats
from registry.versions import alias_events, current_aliases
from registry.versions import as_store, list_datasets, list_versions, open_version, resolve


def list_summary(*, root=None, skipped: list[str] | None = None) -> list[dict]:
    """Each dataset with its versions. A foreign folder or a damaged manifest is left out and
    described in `skipped` (a list to fill), so one bad entry does not hide the rest."""
    store = as_store(root)
    skipped = [] if skipped is None else skipped
    out = []
    for name in list_datasets(store, skipped=skipped):
        versions = list_versions(name, root=store, skipped=skipped)
        if not versions:
            continue
        aliases = current_aliases(store, name)
        out.append({"name": name, "latest": versions[-1].number, "aliases": aliases, "versions": [
            {"number": v.number, "ref": v.ref, "hash": v.hash, "rows": v.rows, "created": v.created,
             "aliases": sorted(a for a, n in aliases.items() if n == v.number)} for v in versions]})
    return out


def show(ref: str, *, root=None, sample: int = 3, layers_of=None) -> dict:
    """Everything `registry show` prints. A damaged score layer is left out and described in
    `damaged_layers`: the version itself is fine. `layers_of(version, skipped)`: the layers'
    summaries, for a caller that keeps them (default `layer_summaries`)."""
    store = as_store(root)
    v = resolve(ref, root=store)
    frame = open_version(v, root=store)
    lineage = v.manifest.get("lineage") or {}
    damaged: list[str] = []
    layers = (layers_of or _summaries(store))(v, damaged)
    return {
        "ref": v.ref, "name": v.name, "number": v.number, "hash": v.hash, "rows": v.rows, "created": v.created,
        "parents": v.parents, "columns": v.manifest["columns"],
        "aliases": sorted(a for a, n in current_aliases(store, v.name).items() if n == v.number),
        "lineage": lineage, "lineage_flat": flatten(lineage), "software": v.manifest.get("software", {}),
        "stats": basic_stats(frame), "bytes_added": v.manifest.get("storage", {}).get("bytes_added", 0),
        "sample": frame.head(sample).to_dicts(),
        "trained_models": trained_models(v, root=store),
        "layers": layers, "damaged_layers": damaged,
    }


def _summaries(store):
    return lambda version, skipped: layer_summaries(version, root=store, skipped=skipped)


def log(name: str, *, root=None) -> list[dict]:
    store = as_store(root)
    resolve(name, root=store)  # clear error for an unknown name
    events = [{"time": v.created, "kind": "version", "ref": v.ref, "hash": v.hash, "rows": v.rows,
               "detail": f"{v.lineage.operation or ''} {v.rows:,} rows"
                         + (f" from {', '.join(v.parents)}" if v.parents else "")}
              for v in list_versions(name, root=store)]
    for e in alias_events(store, name):
        target = f"{name}@{e['version']}" if e["version"] is not None else None
        events.append({"time": e["time"], "kind": "alias", "ref": target, "alias": e["alias"],
                       "previous": e["previous"], "seq": e["seq"],
                       "detail": f"{e['alias']} -> {e['version'] if target else 'removed'}"
                                 + (f" (was {e['previous']})" if e["previous"] else "")})
    return sorted(events, key=lambda e: (e["time"], e["kind"] == "alias"))
