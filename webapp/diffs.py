"""The diff page's data: a cached comparison of two versions and words marked in changed fields."""

from __future__ import annotations

import difflib
import re
import threading

from registry.diff import KINDS, compare, diff_rows
from registry.errors import RegistryError
from registry.versions import resolve
from webapp.cache import LRU

_comparisons = LRU(4)
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def comparison(a, b, store) -> dict:
    """{"summary": ..., "rows": {kind: [row, ...]}} for resolved versions a and b, cached by their
    references and content hashes (the summary names the references)."""
    def build():
        c = compare(a.ref, b.ref, root=store)
        rows = diff_rows(c, KINDS)
        by_kind = {k: [r for r in rows if r["kind"] == k] for k in KINDS}
        summary = {"a": a.ref, "b": b.ref, "unchanged": c.unchanged, "pairing": c.notes,
                   **{k: len(v) for k, v in by_kind.items()}}  # the page shows counts, not statistic deltas
        return {"summary": summary, "rows": by_kind}
    return _comparisons.get(_key(a, b), build)


def _key(a, b) -> tuple:
    return a.ref, a.hash, b.ref, b.hash


def warm(version, store) -> None:
    """Start computing the diff against each parent in the background, so the Diff button is quick."""
    for ref in version.parents:
        try:
            parent = resolve(ref, root=store)
        except RegistryError:
            continue
        if _key(parent, version) not in _comparisons:
            threading.Thread(target=comparison, args=(parent, version, store), daemon=True).start()


def mark_words(before: str, after: str) -> tuple[list[tuple[bool, str]], list[tuple[bool, str]]]:
    """Both texts as (changed?, text) runs: words deleted from `before`, words inserted in `after`."""
    x, y = _TOKEN.findall(before or ""), _TOKEN.findall(after or "")
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append((op != "equal", "".join(x[i1:i2])))
        if j2 > j1:
            right.append((op != "equal", "".join(y[j1:j2])))
    return _joined(left), _joined(right)


def _joined(runs: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
    """Adjacent runs of the same kind merged; a space between two changed runs joins them."""
    out: list[tuple[bool, str]] = []
    for k, (changed, text) in enumerate(runs):
        between = (not changed and not text.strip() and 0 < k < len(runs) - 1 and runs[k - 1][0] and runs[k + 1][0])
        changed = changed or between
        if out and out[-1][0] == changed:
            out[-1] = (changed, out[-1][1] + text)
        else:
            out.append((changed, text))
    return out
