"""Human-written datasheet answers, stored apart from the facts and never written by a render.

Answers live per version in `datasets/NAME/datasheet/NNNNNNNN.json`. A version shows its
parents' answers for any section it has not answered itself, so answers carry to child versions.
"""

from __future__ import annotations

from registry.errors import RegistryError
from records.timestamps import iso_utc
from registry.manifest import Version
from registry.versions import as_store, dataset_dir, dumps, resolve, walk_ancestry

# Questions from Gebru et al., "Datasheets for Datasets" (arXiv 1803.09010), that only a person can answer.
SECTIONS = {
    "motivation": "For what purpose was the dataset created? What gap does it fill?",
    "creators": "Who created the dataset, and on behalf of which entity?",
    "funding": "Who funded the creation of the dataset?",
    "contact": "How can the owner, curator or manager be contacted?",
    "intended_uses": "What tasks should it be used for, and which should it not be used for?",
    "ethics": "Were ethical review processes conducted? What risks and mitigations apply?",
    "distribution": "Will it be distributed to third parties outside the creating entity?",
    "maintenance": "Who maintains it, how often is it updated, how are updates communicated?",
    "other": "Any other comments?",
}


def _path(store, version: Version) -> str:
    return dataset_dir(store, version.name, "datasheet", f"{version.number:08d}.json")


def own_sections(store, version: Version) -> dict[str, str]:
    path = _path(store, version)
    return store.read_json(path).get("sections", {}) if store.exists(path) else {}


def human_sections(version: Version, *, root=None) -> dict[str, dict]:
    """section -> {"text", "from"}: this version's answers, else the nearest ancestor's."""
    store = as_store(root)
    out: dict[str, dict] = {}
    for v in walk_ancestry(version, root=store):
        for key, text in own_sections(store, v).items():
            out.setdefault(key, {"text": text, "from": v.ref})
    return out


def set_sections(ref: str, updates: dict[str, str], *, root=None) -> dict[str, str]:
    """Store answers for `ref`; an empty text removes this version's own answer. Returns its own answers."""
    store = as_store(root)
    unknown = sorted(set(updates) - set(SECTIONS))
    if unknown:
        raise RegistryError(f"unknown datasheet section(s) {unknown}; use {', '.join(SECTIONS)}")
    version = resolve(ref, root=store)
    path = _path(store, version)
    current = store.read_json(path) if store.exists(path) else {"sections": {}, "history": []}
    for key, text in updates.items():
        if text.strip():
            current["sections"][key] = text.strip()
        else:
            current["sections"].pop(key, None)
        current["history"].append({"section": key, "time": iso_utc(), "chars": len(text.strip())})
    store.write_atomic(path, dumps(current))
    return current["sections"]
