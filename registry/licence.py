"""Licence conditions a version inherits (declared licence, seed set, generator terms) and its use class.

Use classes follow the Data Provenance Initiative (Longpre et al. 2023): commercial,
unspecified, non-commercial; a version is as restricted as the most restricted condition it
inherits. OpenAI's terms forbid using outputs to develop competing models, which the Initiative
classes as non-commercial; Alpaca's data licence is CC BY-NC 4.0 for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from records.lineage import Lineage

CLASSES = ("commercial", "unspecified", "non-commercial")
_PERMISSIVE = {"apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
               "odc-by", "odbl", "pddl", "cdla-permissive-2.0", "unlicense"}
_PROVIDER_TERMS = {
    "openai": ("OpenAI Terms of Use: outputs may not be used to develop models that compete with OpenAI",
               "non-commercial"),
}


@dataclass(frozen=True)
class Condition:
    """One inherited condition: where it comes from, what it says, its use class."""

    source: str
    text: str
    use_class: str


def licence_class(licence_id: str | None) -> str:
    lid = (licence_id or "").strip().lower()
    if not lid or lid in ("unknown", "other"):
        return "unspecified"
    if "-nc" in lid or "noncommercial" in lid or "non-commercial" in lid:
        return "non-commercial"
    return "commercial" if lid in _PERMISSIVE else "unspecified"


def own_conditions(manifest: dict) -> list[Condition]:
    """Conditions this version's own lineage adds (declared licence, seeds, generator)."""
    lineage = Lineage.from_dict(manifest.get("lineage"))
    out = []
    declared = lineage.declared_licence()
    if declared:
        out.append(Condition(f"declared licence of {manifest['name']}@{manifest['number']}", declared,
                             licence_class(declared)))
    seeds = lineage.seeds
    if seeds:
        lic = seeds.declared_licence()
        out.append(Condition(f"seed set {seeds.name or '?'}", lic or "licence not recorded", licence_class(lic)))
    gen = lineage.generator
    if gen:
        model, provider = gen.model or "model not recorded", gen.provider
        via = f" via {provider}" if provider else ""
        text, cls = _PROVIDER_TERMS.get(provider, (f"terms of {model}{via} (not recorded)", "unspecified"))
        out.append(Condition(f"generator {model}" + (f" ({provider})" if provider else ""), text, cls))
    return out


def inherited_conditions(manifest: dict, load_parent) -> list[Condition]:
    """Own conditions plus every ancestor's, found through `load_parent(ref) -> manifest`."""
    out, seen, todo = [], set(), [manifest]
    while todo:
        m = todo.pop(0)
        key = f"{m['name']}@{m['number']}"
        if key in seen:
            continue
        seen.add(key)
        out.extend(c for c in own_conditions(m) if c not in out)
        for p in m.get("parents", []):
            try:
                todo.append(load_parent(p["ref"]))
            except Exception:  # noqa: BLE001 - a missing ancestor is reported as such
                out.append(Condition(f"parent {p['ref']}", "ancestor missing from registry", "unspecified"))
    return out


def effective_class(conditions: list[Condition]) -> str:
    """The most restrictive use class among the conditions ('unspecified' when there are none)."""
    if not conditions:
        return "unspecified"
    return max((c.use_class for c in conditions), key=CLASSES.index)


def hub_licence(manifest: dict, conditions: list[Condition] = ()) -> str:
    """The Hub `license:` value: this version's declared licence id, else the one licence all declaring
    ancestors agree on, else 'unknown' (never guessed)."""
    declared = Lineage.from_dict(manifest.get("lineage")).declared_licence()
    if declared:
        return declared.lower()
    inherited = {c.text.lower() for c in conditions if c.source.startswith("declared licence")}
    return inherited.pop() if len(inherited) == 1 else "unknown"
