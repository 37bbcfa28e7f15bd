"""What a version's score layers say, as plain data for `registry show`, the datasheet and the web app.

    layer_summaries(version)   # [{"name": "judge", "kind": "judge", "model": ..., "records": 120,
                               #   "scored": 118, "missing": 2, "reused": 0, "mean": 3.9, "histogram": [...]}]

Counts are of distinct records (a layer keys its scores by record hash), as the layer's manifest
records them. Layers are side data: one can be added to a version at any time, so nothing here may be
kept by the version's content hash; a layer's rows are content-addressed, so what is derived from
them may be kept by the layer's sealed manifest (`layer_key`), which names their hash.
"""

from __future__ import annotations

import polars as pl

from registry.errors import CorruptError
from registry.layers import list_layers, read_layer
from registry.manifest import Version
from registry.versions import as_store

DISTINCT_BARS = 11
"""At most this many distinct scores get a bar each (a judge's 0 to 5 in halves); more are binned."""
BINS = 10


def layer_summaries(version: Version, *, root=None, cache=None, read=None,
                    skipped: list[str] | None = None) -> list[dict]:
    """One summary per layer of `version`, in name order. A damaged layer (its manifest or rows
    edited) raises CorruptError, or, when `skipped` is a list, is left out and described there.

    `cache`: anything with `get(key, compute)` (the web app's LRU), to keep each summary by its
    layer's sealed manifest: reading a large layer back is rehashing it (about a second for 52K
    records), while listing the layers is cheap, so a new layer still shows at once. `read(name,
    manifest)`: how to read a layer's rows (default `read_layer`), for a caller that keeps them."""
    store = as_store(root)
    read = read or (lambda name, manifest: read_layer(version, name, root=store, manifest=manifest))
    out = []
    for name, manifest in list_layers(version, root=store, skipped=skipped).items():
        def compute(name=name, manifest=manifest):
            return summarize(name, manifest, read(name, manifest))
        try:
            out.append(cache.get(layer_key(store, manifest), compute) if cache is not None else compute())
        except CorruptError as e:
            if skipped is None:
                raise
            skipped.append(str(e))
    return out


def layer_key(store, manifest: dict) -> tuple:
    """What a layer's rows depend on: the store and the manifest's seal (which covers the rows' hash)."""
    return store.url, manifest["version_hash"], manifest["name"], manifest["seal"]


def summarize(name: str, manifest: dict, rows: pl.DataFrame) -> dict:
    """The layer's scorer, counts, mean and histogram (over distinct records with a finite score; a
    score such as an overflowed perplexity, inf, is counted in `not_finite` and kept out of both)."""
    scored = rows.get_column("score").drop_nulls()
    scores = scored.filter(scored.is_finite())
    scorer = manifest.get("scorer") or {}
    return {"name": name, "kind": scorer.get("kind"), "model": scorer.get("model"),
            "records": manifest["records"], "scored": manifest["scored"], "missing": manifest["missing"],
            "not_finite": scored.len() - scores.len(),
            "reused": manifest.get("reused", 0), "mean": _round(scores.mean()), "min": _round(scores.min()),
            "max": _round(scores.max()), "has_reasons": rows.get_column("reason").null_count() < rows.height,
            "histogram": histogram(scores.to_list()), "scorer": scorer, "usage": manifest.get("usage") or {},
            "created": manifest.get("created")}


def histogram(scores: list[float]) -> list[dict]:
    """Bars of {label, low, high, count}: one per distinct score when there are few (3.5 -> "3.5"),
    else BINS equal-width bins from the lowest to the highest score, each holding low <= s < high
    (the last also its upper edge)."""
    if not scores:
        return []
    distinct = sorted(set(scores))
    if len(distinct) <= DISTINCT_BARS:
        counts = {s: 0 for s in distinct}
        for s in scores:
            counts[s] += 1
        return [{"label": fmt_score(s), "low": s, "high": s, "count": n} for s, n in counts.items()]
    low, high = distinct[0], distinct[-1]
    width = (high - low) / BINS
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, int((s - low) / width))] += 1
    edges = [low + i * width for i in range(BINS)] + [high]
    return [{"label": f"{fmt_score(edges[i])}-{fmt_score(edges[i + 1])}", "low": edges[i], "high": edges[i + 1], "count": n}
            for i, n in enumerate(counts)]


def text_bar(count: int, most: int, width: int = 30) -> str:
    """A bar of block characters for a text histogram, `width` long at `most`."""
    return "█" * round(width * count / most) if most else ""


def scorer_line(summary: dict) -> str:
    """'judge, model gpt-4o-mini' / 'ifd, model SmolLM2-135M' / 'length': what made the scores."""
    kind, model = summary.get("kind") or "unknown scorer", summary.get("model")
    return f"{kind}, model {model}" if model else str(kind)


def fmt_score(x: float) -> str:
    """A score for a label: 3 significant digits (4.5, 0.172), whole numbers from 1,000 on."""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _round(x) -> float | None:
    return None if x is None else round(float(x), 4)
