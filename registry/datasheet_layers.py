"""Datasheet parts for curation: the version's score layers, and how a selected version was chosen.

Layers are side facts (`facts["layers"]`, written after the version and read on every render); a
selection is the version's own lineage (`operation: select`), fixed when it was committed.
"""

from __future__ import annotations

from registry.escape import Markdown, md_code, md_table, md_text
from registry.layer_facts import scorer_line, text_bar

LAYERS_NOTE = ("Scores kept beside this version by `selfinstruct registry score`, one per distinct record "
               "(keyed by its content hash). A layer can be added at any time; the version's rows never change.")


def score_layers(f: dict) -> str:
    out = ["## Score layers\n"]
    layers, damaged = f.get("layers") or [], f.get("damaged_layers") or []
    if damaged:
        out.append(f"Left out, damaged (run {md_code('selfinstruct registry verify')}): "
                   + "; ".join(md_text(line) for line in damaged) + "\n")
    if not layers:
        if not damaged:
            out.append(f"No score layers yet. Add one with {md_code('selfinstruct registry score ' + f['ref'])}.\n")
        return "\n".join(out)
    out.append(LAYERS_NOTE + "\n")  # fixed template text
    for layer in layers:
        out.append(f"### Layer {md_code(layer['name'])}\n")
        out.append(md_table(["", ""], layer_rows(layer)))
        if layer["histogram"]:
            out.append(f"Distribution of the {sum(b['count'] for b in layer['histogram']):,} scores:\n")
            out.append(histogram_table(layer["histogram"]))
    return "\n".join(out)


def layer_rows(layer: dict) -> list[tuple]:
    scorer, usage = layer["scorer"], layer["usage"]
    rows = [("Scorer", scorer_line(layer)),
            ("Records", f"{layer['records']:,}: {layer['scored']:,} scored, {layer['missing']:,} missing "
                        f"(no readable score), {layer['reused']:,} reused from earlier layers"),
            ("Mean score", "n/a" if layer["mean"] is None else
             f"{layer['mean']:.3f} (min {layer['min']:g}, max {layer['max']:g})")]
    if layer.get("not_finite"):
        rows.append(("Not finite", f"{layer['not_finite']:,} of the scores (such as inf), left out of the mean and histogram"))
    for key, label in (("endpoint_host", "Endpoint host"), ("prompt_sha256", "Prompt sha256"),
                       ("decoding", "Decoding")):
        if scorer.get(key) is not None:
            rows.append((label, scorer[key]))
    if usage:
        rows.append(("Usage", usage))
    rows.append(("Written", layer.get("created")))
    return rows


def histogram_table(bars: list[dict]) -> str:
    """The text histogram: one row per bar, with a bar of block characters."""
    most = max(b["count"] for b in bars)
    return md_table(["score", "records", ""], [[b["label"], f"{b['count']:,}", text_bar(b["count"], most)]
                                               for b in bars])


def rule_text(rule: dict) -> str:
    """A selection rule in words: 'where judge>=4.5; top 100 by judge (highest first), stratified by verb'."""
    parts = []
    if rule.get("where"):
        parts.append("where " + " and ".join(rule["where"]))
    if rule.get("top") is not None:
        order = "lowest first" if rule.get("ascending") else "highest first"
        parts.append(f"top {rule['top']:,} by {rule.get('by')} ({order})"
                     + (f", stratified by {rule['stratify_by']}" if rule.get("stratify_by") else ""))
    return "; ".join(parts) or "not recorded"


def selection_line(lineage: dict) -> str | None:
    """A selected version's rule and counts in one plain line (None for any other operation):
    'where judge>=4.5: kept 9,000 of 52,002 rows, dropped 43,002; no score in judge: 12'."""
    if lineage.get("operation") != "select":
        return None
    counts = lineage.get("counts") or {}
    missing = "; ".join(f"no score in {name}: {n:,}" for name, n in (counts.get("missing_scores") or {}).items())
    return (f"{rule_text(lineage.get('rule') or {})}: kept {counts.get('kept', 0):,} of {counts.get('parent_rows', 0):,} "
            f"rows, dropped {counts.get('dropped', 0):,}" + (f"; {missing}" if missing else ""))


MISSING_RULE = ("A row whose record has no score in a layer the rule names (the scorer could not give one) fails "
                "every condition on that layer and is never among a top N.")


def selection(f: dict) -> str:
    """What a `registry select` version records: its rule, the layers it read, what it kept and dropped."""
    lin = f["lineage"]
    counts = lin.get("counts") or {}
    parent = ", ".join(p["ref"] for p in f["parents"]) or "its parent"
    out = [f"Selected from {md_text(parent)} by score layers with {md_code(rule_text(lin.get('rule') or {}))}: "
           f"kept **{counts.get('kept', 0):,}** of {counts.get('parent_rows', 0):,} rows and dropped "
           f"**{counts.get('dropped', 0):,}**. {MISSING_RULE}\n"]
    rows = [("Parent rows", counts.get("parent_rows")), ("Passed the where conditions", counts.get("passed_where")),
            ("Kept", counts.get("kept")), ("Dropped", counts.get("dropped"))]
    rows += [(Markdown(f"Rows without a score in {md_code(name)}"), n)
             for name, n in (counts.get("missing_scores") or {}).items()]
    rows += [(Markdown(f"Kept from stratum {md_code(key)}"), n) for key, n in (counts.get("strata") or {}).items()]
    out.append(md_table(["selection", "rows"], [(k, "not recorded" if v is None else f"{v:,}") for k, v in rows]))
    layers = lin.get("layers") or {}
    if layers:
        out.append(md_table(["layer read", "scorer", "layer rows hash"],
                            [[Markdown(md_code(name)), scorer_line(info.get("scorer") or {}),
                              Markdown(md_code((info.get("object") or "")[:16]))] for name, info in layers.items()]))
    return "\n".join(out)
