"""The record viewer's data: one version's rows with derived columns, filtered, searched, sorted, paged.

The derived table (row number, word count, leading verb, lower-cased search text) is built once per
version hash; versions are immutable, so a cached table is never stale.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from records.schema import RECORD_FIELDS
from registry.stats import leading_verb, word_count
from registry.versions import open_version
from selfinstruct.run_folder import run_folder
from webapp.cache import LRU

PAGE_SIZE = 50
SORTS = ("row", "length", "-length", "score", "-score")
DERIVED = ("row", "words", "verb", "_text")
"""The columns `table` adds to a version's own."""
LAYER = re.compile(r"[a-z][a-z0-9_-]{0,39}")  # a layer's name, as registry/layers.py allows it
_tables = LRU(4)
_run_files = LRU(8)


def table(version, store) -> pl.DataFrame:
    """Rows of `version` plus `row`, `words`, `verb` and `_text` (for search), cached by version hash."""
    def build():
        frame = open_version(version, root=store)
        return frame.with_row_index("row").with_columns(
            sum(word_count(pl.col(c).fill_null("")) for c in RECORD_FIELDS).alias("words"),
            leading_verb(pl.col("instruction")).fill_null("").alias("verb"),
            pl.concat_str([pl.col(c).fill_null("") for c in RECORD_FIELDS], separator="\n").str.to_lowercase().alias("_text"),
        )
    return _tables.get(version.hash, build)


def warm(version, store) -> None:
    """Build the version's table in the background (from its page), so its records page opens warm."""
    if version.hash not in _tables:
        threading.Thread(target=table, args=(version, store), daemon=True).start()


@dataclass(frozen=True)
class Query:
    """What the records page asks for; every field comes from the query string, validated here."""

    q: str = ""
    has_input: str = ""  # "", "yes", "no"
    min_words: int | None = None
    max_words: int | None = None
    verb: str = ""
    layer: str = ""  # a score layer of the version: filter by min_score/max_score/scored, sort by score
    min_score: float | None = None
    max_score: float | None = None
    scored: str = ""  # "", "yes" (has a score in the layer), "no" (its score is missing)
    sort: str = "row"  # score / -score: by the layer's score, missing scores last
    page: int = 1

    @classmethod
    def from_params(cls, params) -> Query:
        def number(key):
            value = (params.get(key) or "").strip()
            return int(value) if value.isdigit() else None
        def score(key):
            try:
                value = float((params.get(key) or "").strip()[:40])
            except ValueError:
                return None
            return value if math.isfinite(value) else None
        sort = params.get("sort", "row")
        has_input = params.get("has_input", "")
        layer = (params.get("layer") or "").strip()
        scored = params.get("scored", "")
        return cls(q=(params.get("q") or "")[:200], has_input=has_input if has_input in ("yes", "no") else "",
                   min_words=number("min_words"), max_words=number("max_words"),
                   verb=(params.get("verb") or "").strip().lower()[:40],
                   layer=layer if LAYER.fullmatch(layer) else "", min_score=score("min_score"),
                   max_score=score("max_score"), scored=scored if scored in ("yes", "no") else "",
                   sort=sort if sort in SORTS else "row", page=max(1, number("page") or 1))

    def params(self, **change) -> dict:
        """Non-default fields as query parameters, with `change` applied (for links)."""
        values = {**self.__dict__, **change}
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "sort" and v == "row")
                and not (k == "page" and v == 1)}


def select(frame: pl.DataFrame, query: Query) -> tuple[pl.DataFrame, int]:
    """The page of rows matching `query`, and how many match in all. A layer query needs the layer's
    column `score:NAME` in `frame` (webapp/scores.py `scored_table`); a record without a score there
    passes no min/max bound."""
    cond = pl.lit(True)
    if query.q:
        cond &= pl.col("_text").str.contains(query.q.lower(), literal=True)
    if query.has_input:
        has = pl.col("input").fill_null("").str.strip_chars() != ""
        cond &= has if query.has_input == "yes" else ~has
    if query.min_words is not None:
        cond &= pl.col("words") >= query.min_words
    if query.max_words is not None:
        cond &= pl.col("words") <= query.max_words
    if query.verb:
        cond &= pl.col("verb") == query.verb
    score = pl.col(f"score:{query.layer}") if query.layer else None
    if score is not None:
        if query.min_score is not None:
            cond &= (score >= query.min_score).fill_null(False)
        if query.max_score is not None:
            cond &= (score <= query.max_score).fill_null(False)
        if query.scored:
            cond &= score.is_not_null() if query.scored == "yes" else score.is_null()
    hits = frame.filter(cond)
    if query.sort in ("length", "-length"):
        hits = hits.sort(["words", "row"], descending=[query.sort == "-length", False])
    elif query.sort in ("score", "-score") and score is not None:
        hits = hits.sort([f"score:{query.layer}", "row"], descending=[query.sort == "-score", False], nulls_last=True)
    start = (query.page - 1) * PAGE_SIZE
    reasons = [c for c in hits.columns if c.startswith("reason:")]  # shown on each record's own page
    return hits.slice(start, PAGE_SIZE).drop("_text", *reasons), hits.height


def top_verbs(frame: pl.DataFrame, n: int = 30) -> list[str]:
    counts = frame.filter(pl.col("verb") != "").group_by("verb").len().sort(["len", "verb"], descending=[True, False])
    return counts.head(n).get_column("verb").to_list()


def run_dir(version) -> Path | None:
    """The generation run folder a generated version records in its lineage, if it still exists.

    The path comes from the version's manifest, never from a request.
    """
    lineage = version.lineage
    folder = lineage.run_dir if lineage.operation == "generate" else None
    return Path(folder) if folder and Path(folder).is_dir() else None


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def nearest(version) -> dict[str, dict]:
    """instruction -> {most_similar, rouge_l} from the run's kept.jsonl (empty when not recorded)."""
    def build():
        folder = run_dir(version)
        rows = _read_jsonl(run_folder(folder).kept) if folder else []
        return {r["instruction"]: {"most_similar": r.get("most_similar"), "rouge_l": r.get("rouge_l")}
                for r in rows if isinstance(r.get("instruction"), str)}
    return _run_files.get(("kept", version.hash), build)


def dropped(version) -> list[dict] | None:
    """The run's dropped candidates with their reasons, or None when the run folder is not at hand."""
    def build():
        folder = run_dir(version)
        return _read_jsonl(run_folder(folder).dropped) if folder else None
    return _run_files.get(("dropped", version.hash), build)
