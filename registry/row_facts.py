"""The facts a version's rows fix, computed once and kept beside its shards.

    row_facts(version, root=store)     # {"stats", "lengths", "length_bins", "verbs", "arrow_bytes",
                                       #  "record_verbs", "head_digests", and from a commit "parent_shares"}

A version never changes, so what its rows say (the datasheet's statistics, the records page's verb
list, the record hashes of its first rows) is computed when it is committed and stored as
`objects/ab/<version hash>.facts-1.json`: named by the content hash of the rows it describes, like a
shard, and sealed like a manifest. Nothing can make it stale; a change to how facts are computed
bumps FORMAT, so objects of an older format are ignored (and collected by gc). A version committed
before facts were stored, or whose facts object is missing, unreadable or altered, gets its facts
computed from its rows on the first read, which also stores them (when the registry can be written).
`registry verify` names an altered facts object; `registry gc` keeps each live version's.
A commit also counts the rows each parent shares (it has just hashed the parents' rows), by parent
hash; a reader without that count (facts computed on a read, or stored by a commit of the same rows
under other parents) counts them from the rows, as before.
"""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl

from records.hashing import row_digests
from records.schema import RECORD_FIELDS
from registry.errors import CorruptError
from registry.manifest import check_seal, sealed
from registry.shards import check_object_path, read_layout
from registry.stats import arrow_bytes, basic_stats, field_words, leading_verb, length_summary, verb_analysis
from registry.versions import as_store, cast_record_fields, empty_frame, open_version

FORMAT = "selfinstruct-facts/1"
HEAD_ROWS = 50
"""Rows at the top of a version whose record hashes are kept, so a viewer can show (and check) them
without reading the rest. The web app's records page shows this many."""
RECORD_VERBS = 30
_HASH = re.compile(r"[0-9a-f]{64}")


def facts_relpath(version_hash: str) -> str:
    """Where the facts of the rows hashing to `version_hash` live."""
    if not _HASH.fullmatch(version_hash):
        raise CorruptError(f"not a version hash: {version_hash!r}")
    return f"objects/{version_hash[:2]}/{version_hash}.facts-{FORMAT.rsplit('/', 1)[1]}.json"


def length_bins(values: pl.Series) -> dict:
    """Words per field as a histogram clipped at the 99th percentile: integer-aligned bins of `step`
    words from 0 to `cap` (word counts are whole numbers), the last holding everything above."""
    ordered = values.sort().to_list()
    cap = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 1
    step = max(1, -(-(cap + 1) // 40))
    edges = np.arange(0, cap + step + 1, step) - 0.5
    counts, _ = np.histogram(np.minimum(values.to_numpy(), cap), bins=edges)
    return {"cap": int(cap), "step": int(step), "counts": [int(c) for c in counts]}


def record_verbs(frame: pl.DataFrame, n: int = RECORD_VERBS) -> list[str]:
    """The `n` most common leading verbs (ties by name), for the records page's verb filter."""
    return top_verbs(frame.select(leading_verb(pl.col("instruction"))).to_series(), n)


def top_verbs(verbs: pl.Series, n: int = RECORD_VERBS) -> list[str]:
    """The `n` most common of `verbs` (one per row, null or "" where none), ties by name."""
    found = verbs.alias("verb").to_frame().filter(pl.col("verb").is_not_null() & (pl.col("verb") != ""))
    counts = found.group_by("verb").len().sort(["len", "verb"], descending=[True, False])
    return counts.head(n).get_column("verb").to_list()


def compute_facts(frame: pl.DataFrame) -> dict:
    """Everything the rows fix that a datasheet or a viewer states, as plain JSON data."""
    words = field_words(frame)  # counted once for the statistics, the quartiles and the histograms
    return {
        "stats": basic_stats(frame, words), "lengths": length_summary(frame, words),
        "length_bins": {c: length_bins(words.get_column(c)) for c in RECORD_FIELDS},
        "verbs": verb_analysis(frame), "arrow_bytes": arrow_bytes(frame),
        "record_verbs": record_verbs(frame),
        "head_digests": [d.hex() for d in row_digests(frame.head(HEAD_ROWS))],
    }


def parent_shares(store, parents, shard_digests: dict[str, list[bytes]], digests: list[bytes]) -> dict[str, dict]:
    """parent hash -> {"shared": rows of ours whose record the parent holds, "parent_rows": the
    parent's distinct records}, from the parents' shards as a commit has already hashed them
    (`shard_digests`: shard hash -> its rows' record hashes) and each parent's layout."""
    out = {}
    for parent in parents:
        m = parent.manifest
        theirs: set[bytes] = set()
        for shard, start, length in read_layout(store, m["layout"]["path"]):
            theirs.update(shard_digests[m["shards"][int(shard)]["hash"]][int(start):int(start) + int(length)])
        out[parent.hash] = share_counts(digests, theirs)
    return out


def share_counts(digests: list[bytes], theirs: set[bytes]) -> dict:
    """{"shared": rows (of `digests`) whose record a parent holds, "parent_rows": its distinct records}."""
    return {"shared": sum(1 for d in digests if d in theirs), "parent_rows": len(theirs)}


def store_facts(store, version_hash: str, facts: dict) -> None:
    """Write the facts object once (a second writer finds it there and leaves it)."""
    body = sealed({"format": FORMAT, "version_hash": version_hash, "facts": facts})
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()  # key order is meaningful
    store.publish_object(store.path(facts_relpath(version_hash)), data)


def read_facts(store, version_hash: str) -> dict | None:
    """The stored facts of `version_hash`; None when there are none; CorruptError when the object
    is unreadable, of another version or altered."""
    path = store.path(facts_relpath(version_hash))
    try:
        body = store.read_json(path)
    except FileNotFoundError:
        return None
    ok = isinstance(body, dict) and body.get("format") == FORMAT and isinstance(body.get("facts"), dict)
    if not ok or body.get("version_hash") != version_hash or not check_seal(body, path):
        raise CorruptError(f"{path}: not the sealed facts of {version_hash[:12]}")
    return body["facts"]


def row_facts(version, *, root=None, rows=None) -> dict:
    """The version's facts: stored ones when intact, else computed from its rows (`rows()`, default
    opening the version) and stored for the next reader; an altered object is never believed."""
    store = as_store(root)
    try:
        found = read_facts(store, version.hash)
    except CorruptError:
        found = None  # recomputed below; `registry verify` names the altered object
    if found is not None:
        return found
    facts = as_json(compute_facts(rows() if rows is not None else open_version(version, root=store)))
    try:
        if not store.exists(store.path(facts_relpath(version.hash))):
            store_facts(store, version.hash, facts)
    except OSError:
        pass  # a read-only registry: the facts are computed again next time, nothing else changes
    return facts


def as_json(facts: dict) -> dict:
    """`facts` as they read back from the stored object, so a computed and a stored read are equal."""
    return json.loads(json.dumps(facts, ensure_ascii=False))


def head_rows(version, n: int, *, root=None, facts: dict | None = None) -> pl.DataFrame | None:
    """The version's first `n` rows (n <= HEAD_ROWS), read alone from its shards and checked against
    the record hashes its stored facts keep (`facts`, when already read); None when that cannot be
    done (no stored facts, more rows asked, a registry that is not a local folder, an unreadable
    object: a full read names what is wrong). CorruptError when the rows do not match."""
    store = as_store(root)
    if facts is None:
        try:
            facts = read_facts(store, version.hash)
        except CorruptError:
            facts = None
    n = min(n, version.rows)
    if facts is None or n > HEAD_ROWS or not store.is_local:
        return None
    try:
        head = _first_rows(store, version.manifest, n)
    except (OSError, pl.exceptions.PolarsError, IndexError, KeyError):
        return None
    if [d.hex() for d in row_digests(head)] != facts["head_digests"][:n]:
        raise CorruptError(f"{version.ref}: refusing rows that do not hash to the record hashes its facts keep "
                           "(a shard or layout was altered); run `selfinstruct registry verify`")
    return head


def _first_rows(store, manifest: dict, n: int) -> pl.DataFrame:
    """The first `n` rows of a version, read run by run from its shards (only the rows wanted:
    Parquet row groups past them are not decoded)."""
    parts, left = [], n
    for shard, start, length in read_layout(store, manifest["layout"]["path"]):
        if left <= 0:
            break
        take = min(int(length), left)
        path = store.path(check_object_path(manifest["shards"][int(shard)]["path"], "manifest"))
        parts.append(cast_record_fields(pl.scan_parquet(path).slice(int(start), take).collect(), manifest["columns"]))
        left -= take
    if not parts:
        return empty_frame(manifest)
    return pl.concat(parts, how="vertical_relaxed").select(manifest["columns"])


def verify_facts(store, version) -> list[tuple[str, str]]:
    """(path, problem) when the version's facts object is there but unreadable or altered."""
    try:
        path = store.path(facts_relpath(version.hash))
    except CorruptError:
        return []  # a manifest whose hash is no hash: its rows are refused, and verify says so
    try:
        read_facts(store, version.hash)
    except (CorruptError, OSError) as e:
        return [(path, str(e))]
    return []
