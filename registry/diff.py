"""`registry diff A B`: rows added, removed and changed by record hash, statistic deltas, lineage deltas.

Rows whose record hash is in both versions are unchanged. The rest are paired into `changed`
edits in stages, strictest first: same instruction, then same output, then a near-duplicate
match on word sets (MinHash LSH, Jaccard >= 0.5, as in near-dedup practice), then rows replaced
in place (removed and added between the same two unchanged neighbours). `pairing` counts each stage.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from records.hashing import row_digests
from records.minhash import MinHashIndex
from records.schema import RECORD_FIELDS
from registry.errors import RegistryError
from registry.manifest import Version
from registry.stats import basic_stats
from registry.versions import as_store, open_version, resolve

NEAR_DUP_THRESHOLD = 0.5
NEAR_DUP_MAX_ROWS = 50_000  # beyond this the near-duplicate stage is skipped and the report says so
_WORD = re.compile(r"\w+")
KINDS = ("added", "removed", "changed")


@dataclass
class Comparison:
    """Two resolved versions, their rows, and which rows were removed, added and paired as edits."""

    va: Version
    vb: Version
    fa: pl.DataFrame
    fb: pl.DataFrame
    gone: list[int]  # rows of A not in B (removed or changed)
    new: list[int]  # rows of B not in A (added or changed)
    pairs: list[tuple[int, int]]  # (row of A, row of B) paired as one edit
    notes: dict
    unchanged: int

    @property
    def removed(self) -> list[int]:
        paired = {i for i, _ in self.pairs}
        return [i for i in self.gone if i not in paired]

    @property
    def added(self) -> list[int]:
        paired = {j for _, j in self.pairs}
        return [j for j in self.new if j not in paired]


def compare(a: str, b: str, *, root=None) -> Comparison:
    """Resolve `a` and `b` and pair their differing rows (see module docstring)."""
    store = as_store(root)
    va, vb = resolve(a, root=store), resolve(b, root=store)
    fa, fb = open_version(va, root=store), open_version(vb, root=store)
    in_b, in_a = shared_rows(fa, fb)
    gone = [i for i, shared in enumerate(in_b) if not shared]
    new = [j for j, shared in enumerate(in_a) if not shared]
    pairs, notes = pair_edits(text_columns(fa), text_columns(fb), gone, new, gap_ids(in_b), gap_ids(in_a))
    return Comparison(va, vb, fa, fb, gone, new, pairs, notes, sum(in_a))


def shared_rows(fa: pl.DataFrame, fb: pl.DataFrame) -> tuple[list[bool], list[bool]]:
    """For each row of A whether B holds the same record, and for each row of B whether A does.

    Same record = same record hash. When both versions have the same columns, all text, equal
    records are equal rows (nulls equal each other), so a hash join on the columns decides it
    without hashing every row's canonical JSON; other schemas compare record hashes.
    """
    cols = sorted(fa.columns)
    if cols == sorted(fb.columns) and all(fa.schema[c] == fb.schema[c] == pl.String for c in cols):
        # Each column as (is null, text with nulls as ""): exact equality, null apart from "".
        keys = [e for c in cols for e in (pl.col(c).is_null().alias(f"_null_{c}"), pl.col(c).fill_null(""))]
        on = [k for c in cols for k in (f"_null_{c}", c)]

        def member(x: pl.DataFrame, y: pl.DataFrame) -> list[bool]:
            hits = x.select(keys).with_row_index("_i").join(y.select(keys).unique(), on=on, how="semi")
            flags = [False] * x.height
            for i in hits.get_column("_i").to_list():
                flags[i] = True
            return flags
        return member(fa, fb), member(fb, fa)
    da, db = row_digests(fa), row_digests(fb)
    sa, sb = set(da), set(db)
    return [d in sb for d in da], [d in sa for d in db]


def diff(a: str, b: str, *, root=None, examples: int = 3) -> dict:
    """A JSON-ready comparison of versions `a` and `b` (see module docstring)."""
    return summarize(compare(a, b, root=root), examples=examples)


def summarize(c: Comparison, *, examples: int = 3) -> dict:
    ca, cb = text_columns(c.fa), text_columns(c.fb)
    fields = {f: 0 for f in RECORD_FIELDS}
    for i, j in c.pairs:
        for f in fields:
            fields[f] += ca[f][i] != cb[f][j]
    va, vb = c.va, c.vb
    return {
        "a": va.ref, "b": vb.ref, "a_hash": va.hash, "b_hash": vb.hash,
        "unchanged": c.unchanged,
        "added": len(c.new) - len(c.pairs),
        "removed": len(c.gone) - len(c.pairs),
        "changed": len(c.pairs),
        "changed_fields": fields,
        "pairing": c.notes,
        "stats": stat_deltas(basic_stats(c.fa), basic_stats(c.fb)),
        "lineage": dict_deltas(va.manifest.get("lineage", {}), vb.manifest.get("lineage", {})),
        "parents": {"a": va.parents, "b": vb.parents},
        "examples": [{"before": c.fa.row(i, named=True), "after": c.fb.row(j, named=True)}
                     for i, j in c.pairs[:examples]],
    }


def diff_rows(c: Comparison, show=KINDS) -> list[dict]:
    """The differing rows, one dict each: kind (added, removed, changed), row positions, before/after.

    Changed rows list the fields that differ. Rows come kind by kind, each in row order. The CLI's
    `registry diff --show/--output` and the web app's diff page both read these.
    """
    unknown = set(show) - set(KINDS)
    if unknown:
        raise RegistryError(f"unknown diff kind(s) {sorted(unknown)}: choose from {', '.join(KINDS)}")
    out: list[dict] = []
    if "added" in show:
        out += [{"kind": "added", "b_row": j, "after": c.fb.row(j, named=True)} for j in c.added]
    if "removed" in show:
        out += [{"kind": "removed", "a_row": i, "before": c.fa.row(i, named=True)} for i in c.removed]
    if "changed" in show:
        for i, j in c.pairs:
            before, after = c.fa.row(i, named=True), c.fb.row(j, named=True)
            out.append({"kind": "changed", "a_row": i, "b_row": j, "before": before, "after": after,
                        "fields": [f for f in RECORD_FIELDS if before.get(f) != after.get(f)]})
    return out


def text_columns(frame: pl.DataFrame) -> dict[str, list]:
    return {c: frame.get_column(c).to_list() for c in RECORD_FIELDS}


def gap_ids(shared_flags: list[bool]) -> list[int]:
    """For each row, how many rows shared with the other version come before it (its gap between anchors)."""
    out, count = [], 0
    for shared in shared_flags:
        out.append(count)
        count += shared
    return out


def pair_edits(fa: dict, fb: dict, gone: list[int], new: list[int], gap_a=None, gap_b=None):
    """Pair removed rows of A with added rows of B; returns (pairs, counts per pairing stage)."""
    pairs: list[tuple[int, int]] = []
    notes: dict[str, int | str] = {}
    for field in ("instruction", "output"):
        by_value = defaultdict(list)
        for j in new:
            by_value[fb[field][j]].append(j)
        matched_b: set[int] = set()
        left = []
        for i in gone:
            bucket = by_value.get(fa[field][i])
            if bucket and fa[field][i]:
                # Several rows with this value: take the one nearest in position (same gap first).
                k = 0 if gap_a is None else min(range(len(bucket)), key=lambda k: abs(gap_b[bucket[k]] - gap_a[i]))
                j = bucket.pop(k)
                pairs.append((i, j))
                matched_b.add(j)
            else:
                left.append(i)
        notes[f"same_{field}"] = len(matched_b)
        gone, new = left, [j for j in new if j not in matched_b]
    if len(gone) > NEAR_DUP_MAX_ROWS or len(new) > NEAR_DUP_MAX_ROWS:
        notes["near_duplicate"] = "skipped: too many unpaired rows"
    else:
        near = pair_near_duplicates(fa, fb, gone, new)
        notes["near_duplicate"] = len(near)
        pairs.extend(near)
        paired_a, paired_b = {i for i, _ in near}, {j for _, j in near}
        gone, new = [i for i in gone if i not in paired_a], [j for j in new if j not in paired_b]
    if gap_a is not None:
        # Replaced in place: a removed and an added row between the same two unchanged rows,
        # paired in order, as a line diff pairs the deletions and insertions of one hunk.
        by_gap: dict[int, list[int]] = defaultdict(list)
        for j in new:
            by_gap[gap_b[j]].append(j)
        placed = []
        for i in gone:
            bucket = by_gap.get(gap_a[i])
            if bucket:
                placed.append((i, bucket.pop(0)))
        notes["same_position"] = len(placed)
        pairs.extend(placed)
    pairs.sort()
    return pairs, notes


def _words(frame: dict, i: int) -> set[str]:
    return set(_WORD.findall(" ".join(frame[c][i] or "" for c in RECORD_FIELDS).lower()))


def pair_near_duplicates(fa, fb, gone, new) -> list[tuple[int, int]]:
    if not gone or not new:
        return []
    index = MinHashIndex(NEAR_DUP_THRESHOLD, num_perm=64)
    words_b = {}
    for j in new:
        words_b[j] = _words(fb, j)
        index.insert(j, index.signature(w.encode() for w in words_b[j]))
    candidates = []
    for i in gone:
        wa = _words(fa, i)
        for j in index.candidates(index.signature(w.encode() for w in wa)):
            jac = len(wa & words_b[j]) / max(1, len(wa | words_b[j]))  # confirmed exactly, not estimated
            if jac >= NEAR_DUP_THRESHOLD:
                candidates.append((jac, i, j))
    used_a, used_b, out = set(), set(), []
    for _, i, j in sorted(candidates, reverse=True):  # best matches first, each row paired once
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
    return out


def stat_deltas(a: dict, b: dict) -> dict:
    return {k: {"a": a[k], "b": b[k], "delta": _delta(a[k], b[k])} for k in a if k in b}


def _delta(x, y):
    return round(y - x, 4) if isinstance(x, (int, float)) and isinstance(y, (int, float)) else None


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def dict_deltas(a: dict, b: dict) -> dict:
    """Lineage keys whose values differ, as {key: {"a": ..., "b": ...}} (dotted keys for nesting)."""
    fa, fb = flatten(a), flatten(b)
    return {k: {"a": fa.get(k), "b": fb.get(k)} for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)}
