"""A version's score layers in the web app: its rows with a score (and reason) column per layer, the
layers' summaries, and their histograms as drawing data.

Layers are side data (one can be written for a version at any time), so they are listed on every
request; what is read from a layer is kept by its sealed manifest (`registry.layer_facts.layer_key`),
which a new or rewritten layer changes, so nothing here can go stale.
"""

from __future__ import annotations

import threading

import polars as pl

from registry.errors import CorruptError
from registry.layer_facts import fmt_score, layer_key, layer_summaries
from registry.layers import list_layers, read_layer, record_hashes
from webapp import records
from webapp.cache import LRU

_hashes = LRU(4)
_scored = LRU(4)
_rows = LRU(8)
_summaries = LRU(32)


def score_column(name: str) -> str:
    """The table's column of layer `name`'s scores (a layer name cannot hold ':', so no column clashes)."""
    return f"score:{name}"


def reason_column(name: str) -> str:
    return f"reason:{name}"


def layers(version, store, skipped: list[str]) -> dict[str, dict]:
    """The version's layers now: name -> sealed manifest; a damaged manifest is left out and described
    in `skipped` (the pages show it in their banner)."""
    return list_layers(version, root=store, skipped=skipped)


def scored_table(version, store, manifests: dict[str, dict], skipped: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """`records.table` plus score:NAME and reason:NAME for each layer in `manifests` (null where the
    record has no score), in row order, and the names of the layers it holds: a layer whose rows were
    edited is left out and described in `skipped`."""
    if not manifests:
        return records.table(version, store), []

    def hashes():
        return record_hashes(records.table(version, store).drop(records.DERIVED))

    def build():
        frame = records.table(version, store).with_columns(
            pl.Series("_record", _hashes.get((store.url, version.hash), hashes), dtype=pl.String))
        names, damaged = [], []
        for name, manifest in manifests.items():
            try:
                rows = layer_rows(version, store, name, manifest)
            except CorruptError as e:
                damaged.append(str(e))
                continue
            frame = frame.join(rows.select(pl.col("record").alias("_record"), pl.col("score").alias(score_column(name)),
                                           pl.col("reason").alias(reason_column(name))),
                               on="_record", how="left", maintain_order="left")
            names.append(name)
        return frame.drop("_record"), names, damaged

    key = (store.url, version.ref, version.hash, *(layer_key(store, m) for m in manifests.values()))
    frame, names, damaged = _scored.get(key, build)
    skipped.extend(damaged)
    return frame, names


def layer_rows(version, store, name: str, manifest: dict) -> pl.DataFrame:
    """A layer's rows (record, score, reason), read (and so rehashed) once per sealed manifest: the
    records table and the summaries share them."""
    return _rows.get(layer_key(store, manifest), lambda: read_layer(version, name, root=store, manifest=manifest))


def summaries(version, store, skipped: list[str]) -> list[dict]:
    """Each readable layer's summary (registry/layer_facts.py), from the shared rows."""
    return layer_summaries(version, root=store, cache=_summaries, skipped=skipped,
                           read=lambda name, manifest: layer_rows(version, store, name, manifest))


def warm(version, store) -> None:
    """Join the version's layers to its rows in the background (from its page), so its records page,
    where one would sort by a layer, opens warm."""
    def build():
        skipped: list[str] = []
        scored_table(version, store, layers(version, store, skipped), skipped)
    threading.Thread(target=build, daemon=True).start()


def record_scores(row: dict, manifests: dict[str, dict], names: list[str]) -> list[dict]:
    """Each layer's (of `names`) score and reason for one row of `scored_table`."""
    return [{"name": name, "kind": (manifests[name].get("scorer") or {}).get("kind"),
             "model": (manifests[name].get("scorer") or {}).get("model"), "score": row.get(score_column(name)),
             "reason": row.get(reason_column(name))} for name in names]


def histogram_bars(bars: list[dict], *, width: int = 360, height: int = 120, top: int = 16) -> dict:
    """Geometry of a small SVG bar chart of a layer's histogram bars, below a `top` band for the
    tallest bar's count: a label under each bar when each is one score, else the lowest and highest
    score at the ends."""
    n = max(1, len(bars))
    most = max((b["count"] for b in bars), default=0) or 1
    step = width / n
    out = []
    for i, b in enumerate(bars):
        h = round(height * b["count"] / most, 1)
        out.append({"x": round(i * step + 1, 1), "w": round(max(1.0, step - 2), 1), "y": round(top + height - h, 1),
                    "h": h, "cx": round(i * step + step / 2, 1), "label": b["label"], "count": b["count"]})
    each = all(b["low"] == b["high"] for b in bars)
    ends = [] if each or not bars else [{"x": 0, "anchor": "start", "text": fmt_score(bars[0]["low"])},
                                         {"x": width, "anchor": "end", "text": fmt_score(bars[-1]["high"])}]
    return {"width": width, "height": top + height + 20, "label_y": top + height + 14, "bars": out, "each": each,
            "ends": ends, "most": most}
