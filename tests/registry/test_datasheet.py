"""Datasheet facts match the data; human answers survive child versions; HTML carries the plots."""

from __future__ import annotations

import json

import polars as pl
import yaml

import registry
from registry.datasheet import render_markdown
from registry.datasheet_html import render_html
from registry.facts import collect_facts
from registry.human import SECTIONS, set_sections

from .conftest import make_frame

LINEAGE = {
    "operation": "generate",
    "parameters": {"num_instructions": 200, "language": "en"},
    "counts": {"requests": 10, "candidates": 260, "kept": 120},
    "drops": {"too_short": 12, "rouge_duplicate": 40, "blacklist": 88},
    "generator": {"model": "gpt-4o-mini", "provider": "openai", "endpoint_host": "api.openai.com",
                  "api": "chat", "decoding": {"temperature": 1.0, "top_p": 1.0, "max_tokens": 3072}},
    "prompt": {"sha256": "ab" * 32},
    "seeds": {"name": "default", "sha256": "cd" * 32, "count": 3, "licence": "Apache-2.0"},
    "random_seed": 42,
    "in_context": {"seed_examples": 3, "machine_examples": 0},
    "usage": {"requests": 10, "prompt_tokens": 12000, "completion_tokens": 30000, "dollars": 0.12},
    "time_window": {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:05:00+00:00"},
    "run_dir": "runs/gen.run",
    "filters": {"profile": "strict", "rouge_threshold": 0.7, "minhash_threshold": None},
}


def split_front_matter(markdown: str) -> tuple[dict, str]:
    _, front, body = markdown.split("---\n", 2)
    return yaml.safe_load(front), body


def test_front_matter_is_a_hub_dataset_card(root, frame):
    v = registry.commit(frame, name="gen", lineage=LINEAGE, root=root)
    meta, body = split_front_matter(render_markdown(v, root=root))
    assert meta["annotations_creators"] == ["machine-generated"]
    assert meta["size_categories"] == ["n<1K"] and meta["language"] == ["en"]
    assert meta["license"] == "unknown" and meta["pretty_name"] == "gen@1"
    for section in ("Motivation", "Composition", "Collection process", "Preprocessing and cleaning", "Uses",
                    "Distribution", "Maintenance"):
        assert f"## {section}\n" in body


def test_facts_match_the_data(root, tmp_path):
    frame = make_frame(90)
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("\n".join(json.dumps({"instruction": t}) for t in ["Write a short note.", "Sort numbers."]))
    v = registry.commit(frame, name="gen", lineage=LINEAGE, root=root)
    facts = collect_facts(v, root=root, seeds_path=seeds)
    words = frame.select(pl.col("output").str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
                         .list.len())["output"]
    assert facts["rows"] == 90 and facts["stats"]["rows"] == 90
    assert facts["stats"]["share_with_input"] == round(frame["input"].ne("").mean(), 4)
    assert facts["lengths"]["output"]["max"] == words.max() and facts["lengths"]["output"]["min"] == words.min()
    assert facts["verbs"]["top_verbs"][0] == {"verb": "write", "count": 90,
                                              "objects": [{"object": "note", "count": 90}]}
    assert sum(facts["novelty"]["counts"]) == 90 and facts["novelty"]["sampled"] is False
    assert facts["use_class"] == "non-commercial"  # OpenAI terms outrank the Apache-2.0 seeds
    md = render_markdown(v, root=root, facts=facts)
    assert "**90** instances" in md and "| rouge_duplicate | 40 |" in md
    assert "api.openai.com" in md and "gpt-4o-mini" in md
    for fact in ("dollars=0.12", "runs/gen.run", "seed_examples=3", "| rouge_threshold | 0.7 |",
                 "temperature=1.0", "finished=2026-01-01T00:05:00+00:00", "| kept | 120 |"):
        assert fact in md, fact
    assert v.manifest["lineage"] == LINEAGE  # stored as given
    assert {"polars", "datasketch", "rouge-score", "selfinstruct"} <= set(v.manifest["software"])


def test_human_answers_survive_child_versions_and_unanswered_are_listed(root, frame):
    parent = registry.commit(frame, name="gen", lineage=LINEAGE, root=root)
    set_sections(parent.ref, {"motivation": "Study instruction tuning.", "contact": "data@example.org"}, root=root)
    child = registry.commit(frame.head(50), name="gen", lineage={"operation": "sample"}, parents=[parent.ref],
                            root=root)
    set_sections(child.ref, {"contact": "new@example.org"}, root=root)
    md = render_markdown(child, root=root)
    assert "Study instruction tuning." in md and "carried from gen@1" in md
    assert "new@example.org" in md and "data@example.org" not in md
    for key in ("funding", "creators", "ethics"):
        assert f"--set {key}=..." in md and SECTIONS[key] in md
    # Rendering never writes human answers: the parent keeps its own.
    assert "data@example.org" in render_markdown(parent, root=root)


def test_recorded_uses_appear_and_manifest_stays_immutable(root, frame):
    v = registry.commit(frame, name="gen", lineage=LINEAGE, root=root)
    before = registry.resolve(v.ref, root=root).manifest
    registry.record_use(v.ref, {"kind": "finetune", "output": "runs/r1", "model": "tiny-llm", "recipe": "lora",
                                "started": "2026-01-01T00:00:00+00:00"}, root=root)
    assert registry.resolve(v.ref, root=root).manifest == before
    assert "| finetune | tiny-llm | runs/r1 | lora |" in render_markdown(v, root=root)


def test_html_is_self_contained_with_three_plots(root, tmp_path, frame):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(json.dumps({"instruction": "Write a short note."}))
    v = registry.commit(frame, name="gen", lineage=LINEAGE, root=root)
    page = render_html(collect_facts(v, root=root, seeds_path=seeds))
    assert page.count("<svg") == 3 and "<script" not in page and "src=\"http" not in page
    assert "<h2>Composition</h2>" in page and "rouge_duplicate" in page
