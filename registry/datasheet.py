"""Render a version's datasheet: Hub YAML front matter, then the Datasheets for Datasets sections.

Facts come from `collect_facts` on every render; human answers come from `human.py` and an
unanswered question is printed as unanswered, never filled in.
"""

from __future__ import annotations

import json

import yaml

from registry.facts import collect_facts
from registry.human import SECTIONS

NOTICE = ("Facts in this datasheet are computed from the registry manifest and the rows each time it is "
          "rendered. Answers marked *(human)* were written by people with `selfinstruct registry datasheet --set`.")


def front_matter(facts: dict, *, hf_configs: bool) -> dict:
    lineage = facts["lineage"]
    language = lineage.get("language") or (lineage.get("parameters") or {}).get("language")
    meta = {
        "pretty_name": facts["ref"],
        "license": facts["hub_licence"],
        "language": [language] if isinstance(language, str) else language,
        "size_categories": [facts["size_category"]],
        "task_categories": ["text-generation"],
        "annotations_creators": ["machine-generated" if facts["machine_generated"] else "found"],
        "language_creators": ["machine-generated" if facts["machine_generated"] else "found"],
        "source_datasets": sorted({p["ref"].split("@")[0] for p in facts["parents"]}) or ["original"],
        "tags": ["instruction-tuning", "selfinstruct", *(["synthetic"] if facts["machine_generated"] else [])],
    }
    if not meta["language"]:
        del meta["language"]
    if hf_configs:
        meta["configs"] = [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}]
        meta["dataset_info"] = {
            "features": [{"name": c, "dtype": "string" if t == "String" else t.lower()}
                         for c, t in facts["schema"].items()],
            "splits": [{"name": "train", "num_bytes": facts["arrow_bytes"], "num_examples": facts["rows"]}],
        }
    return meta


def render_markdown(version, *, root=None, frame=None, hf_configs: bool = False, seeds_path=None,
                    facts: dict | None = None) -> str:
    facts = facts or collect_facts(version, root=root, frame=frame, seeds_path=seeds_path)
    head = yaml.safe_dump(front_matter(facts, hf_configs=hf_configs), sort_keys=False, allow_unicode=True)
    parts = [f"---\n{head}---\n", f"# Datasheet: {facts['ref']}\n", f"_{NOTICE}_\n", summary(facts)]
    from registry.datasheet_sections import SECTION_RENDERERS

    parts.extend(render(facts) for render in SECTION_RENDERERS)
    return "\n".join(parts).rstrip() + "\n"


def summary(f: dict) -> str:
    rows = [("Version", f"`{f['ref']}`"), ("Content hash", f"`{f['hash']}`"), ("Rows", f"{f['rows']:,}"),
            ("Created", f["created"]), ("Parents", ", ".join(p["ref"] for p in f["parents"]) or "none"),
            ("Aliases", ", ".join(f["aliases"]) or "none"), ("Effective use class", f["use_class"]),
            ("Operation", f["lineage"].get("operation") or "not recorded")]
    return table(["", ""], rows)


def human(f: dict, key: str) -> str:
    answer = f["human"].get(key)
    if answer:
        origin = "" if answer["from"] == f["ref"] else f", carried from {answer['from']}"
        return f"**{SECTIONS[key]}** *(human{origin})*\n\n{answer['text']}\n"
    return f"**{SECTIONS[key]}**\n\n_Unanswered. Set it with `selfinstruct registry datasheet {f['ref']} --set {key}=...`._\n"


def table(header: list[str], rows: list) -> str:
    def cell(v) -> str:
        text = (v if isinstance(v, str) else "not recorded" if v is None
                else json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
