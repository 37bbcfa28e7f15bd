"""Render a version's datasheet: Hub YAML front matter, then the Datasheets for Datasets sections.

Facts come from `collect_facts` on every render; human answers come from `human.py` and an
unanswered question is printed as unanswered, never filled in.
"""

from __future__ import annotations

from records.lineage import Lineage
from registry.datasheet_sections import SECTION_RENDERERS
from registry.escape import md_code, md_table, md_text, yaml_block
from registry.facts import collect_facts

NOTICE = ("Facts in this datasheet are computed from the registry manifest and the rows each time it is "
          "rendered. Answers marked *(human)* were written by people with `selfinstruct registry datasheet --set`.")


def front_matter(facts: dict, *, hf_configs: bool) -> dict:
    language = Lineage.from_dict(facts["lineage"]).data_language()
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
    return f"---\n{render_front_matter(facts, hf_configs=hf_configs)}---\n" + render_body(facts)


def render_front_matter(facts: dict, *, hf_configs: bool = False) -> str:
    """The Hub metadata as YAML (without the `---` fences)."""
    return yaml_block(front_matter(facts, hf_configs=hf_configs))


def render_body(facts: dict) -> str:
    """Everything after the front matter. Values are escaped by the helpers in registry/escape.py."""
    parts = ["", f"# Datasheet: {md_text(facts['ref'])}\n", f"_{NOTICE}_\n", summary(facts)]
    parts.extend(render(facts) for render in SECTION_RENDERERS)
    return "\n".join(parts).rstrip() + "\n"


def summary(f: dict) -> str:
    rows = [("Version", md_code(f["ref"])), ("Content hash", md_code(f["hash"])), ("Rows", f"{f['rows']:,}"),
            ("Created", f["created"]), ("Parents", ", ".join(p["ref"] for p in f["parents"]) or "none"),
            ("Aliases", ", ".join(f["aliases"]) or "none"), ("Effective use class", f["use_class"]),
            ("Operation", Lineage.from_dict(f["lineage"]).operation or "not recorded")]
    return md_table(["", ""], rows)
