"""Keep the good records: a derived version chosen by score layers, with the rule in its lineage.

    select_version("alpaca@1", into="alpaca-good", where=["judge>=4.5"])
    select_version("alpaca@1", into="alpaca-top", top=9000, by="judge", stratify_by="verb")

Rules, exactly:
- `where` conditions (LAYER OP NUMBER, OP one of >= > <= < == !=) must all hold; a record with no
  score in a layer a condition names (a judge reply that could not be read) fails the condition.
- `top N --by LAYER` keeps the N best-scored records (highest first, lowest with `ascending`) among
  those that pass `where` and have a score; ties go to the record that comes first in the version,
  so the same inputs always keep the same rows. With `stratify_by` (verb: the instruction's leading
  verb; or any text column, such as `category`), N is shared among the groups in proportion to their
  sizes (largest remainders, ties by the group's first row), and each group keeps its best.
The kept rows stay in the parent's order.
"""

from __future__ import annotations

import math
import re

import polars as pl

from registry.derive import select_rows
from registry.errors import RegistryError
from registry.layers import list_layers, version_scores
from registry.stats import leading_verb
from registry.versions import as_store, resolve

CONDITION = re.compile(r"\s*([a-z][a-z0-9_-]*)\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)\s*")
OPERATORS = {">=": "ge", "<=": "le", "==": "eq", "!=": "ne", ">": "gt", "<": "lt"}


def parse_condition(text: str) -> tuple[str, str, float]:
    match = CONDITION.fullmatch(text)
    if match is None:
        raise ValueError(f"--where {text!r}: write LAYER OP NUMBER, such as judge>=4.5 (OP: >= > <= < == !=)")
    return match.group(1), match.group(2), float(match.group(3))


def select_version(ref: str, *, into: str, where: list[str] = (), top: int | None = None, by: str | None = None,
                   ascending: bool = False, stratify_by: str | None = None, root=None):
    """Commit the records of `ref` that the rule keeps as a new version of `into`; returns it."""
    store = as_store(root)
    version = resolve(ref, root=store)
    conditions = [parse_condition(w) for w in where]
    if top is not None and (by is None or top < 0):
        raise ValueError("--top N needs --by LAYER and N >= 0")
    if top is None and not conditions:
        raise ValueError("give --where LAYER OP NUMBER and/or --top N --by LAYER")
    layers = list_layers(version, root=store)
    used = sorted({c[0] for c in conditions} | ({by} if by else set()))
    for name in used:
        if name not in layers:
            raise RegistryError(f"{version.ref} has no layer {name!r}" +
                                (f" (it has {', '.join(layers)})" if layers else "; score it first (registry score)"))

    def rule(frame: pl.DataFrame):
        scored = version_scores(version, used, root=store, frame=frame)
        keep, counts = kept_rows(scored, conditions, top, by, ascending, stratify_by)
        lineage = {"operation": "select",
                   "rule": {"where": [f"{n}{op}{v:g}" for n, op, v in conditions], "top": top, "by": by,
                            "ascending": ascending if top is not None else None, "stratify_by": stratify_by},
                   "layers": {n: {"scorer": layers[n]["scorer"], "settings_key": layers[n]["settings_key"],
                                  "object": layers[n]["object"]["hash"]} for n in used},
                   "counts": {"parent_rows": frame.height, "kept": len(keep), "dropped": frame.height - len(keep),
                              **counts}}
        return keep, lineage

    return select_rows(version.ref, into=into, select=rule, root=store)


def kept_rows(scored: pl.DataFrame, conditions, top, by, ascending, stratify_by) -> tuple[list[int], dict]:
    """The row positions the rule keeps, in order, and counts for the lineage."""
    frame = scored.with_row_index("__row")
    mask = pl.lit(True)
    missing = {}
    for name, op, value in conditions:
        missing[name] = int(frame.get_column(name).null_count())
        mask = mask & getattr(pl.col(name), OPERATORS[op])(value).fill_null(False)
    passing = frame.filter(mask)
    counts = {"missing_scores": missing, "passed_where": passing.height}
    if top is None:
        return passing.get_column("__row").to_list(), counts
    candidates = passing.filter(pl.col(by).is_not_null())
    counts["missing_scores"].setdefault(by, int(frame.get_column(by).null_count()))
    if stratify_by is None:
        chosen = _best(candidates, by, ascending, top)
    else:
        groups = _group_key(candidates, stratify_by)
        quotas = _quotas(groups, top)
        chosen = [row for key, n in quotas.items()
                  for row in _best(candidates.filter(groups == key if key is not None else groups.is_null()),
                                   by, ascending, n)]
        counts["strata"] = {str(k): n for k, n in quotas.items()}
    return sorted(chosen), counts


def _best(frame: pl.DataFrame, by: str, ascending: bool, n: int) -> list[int]:
    order = frame.sort([by, "__row"], descending=[not ascending, False])
    return order.get_column("__row").head(n).to_list()


def _group_key(frame: pl.DataFrame, stratify_by: str) -> pl.Series:
    if stratify_by == "verb":
        return frame.select(leading_verb(pl.col("instruction")).alias("g")).to_series()
    if stratify_by not in frame.columns:
        raise ValueError(f"--stratify-by {stratify_by!r}: use verb or a column of the version "
                         f"({', '.join(c for c in frame.columns if not c.startswith('__'))})")
    return frame.get_column(stratify_by).cast(pl.String)


def _quotas(groups: pl.Series, total: int) -> dict:
    """N shared among the groups in proportion to their sizes: whole parts first, then the largest
    remainders; ties go to the group whose first record comes first."""
    sizes: dict = {}
    for key in groups.to_list():
        sizes[key] = sizes.get(key, 0) + 1
    n = sum(sizes.values())
    total = min(total, n)
    if n == 0:
        return {}
    exact = {k: total * s / n for k, s in sizes.items()}
    quotas = {k: math.floor(v) for k, v in exact.items()}
    order = list(sizes)  # first-appearance order
    left = total - sum(quotas.values())
    for k in sorted(order, key=lambda k: (-(exact[k] - quotas[k]), order.index(k)))[:left]:
        quotas[k] += 1
    return {k: min(quotas[k], sizes[k]) for k in order}
