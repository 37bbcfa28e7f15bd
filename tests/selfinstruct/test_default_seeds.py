"""The shipped seed set: Self-Instruct format, unique ids and names, no near-duplicate instructions."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import pytest
from rouge_score import rouge_scorer

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds" / "default.jsonl"
CATEGORIES = ROOT / "seeds" / "default_categories.json"

# Self-Instruct adds a generated instruction to the pool only if its ROUGE-L against every
# instruction already there is below 0.7 (Wang et al. 2023, section 2.3); seeds must pass it too.
ROUGE_THRESHOLD = 0.7


def load_lines(path: Path) -> list[dict]:
    """Parse every non-blank line; a bad line fails with its line number."""
    tasks = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                tasks.append(json.loads(line))
            except json.JSONDecodeError as err:
                pytest.fail(f"{path}:{lineno}: not valid JSON: {err}")
    return tasks


@pytest.fixture(scope="module")
def seeds() -> list[dict]:
    return load_lines(SEEDS)


def pairs_above(pairs, threshold: float) -> list[tuple[float, str, str]]:
    """Every (score, a, b) whose ROUGE-L F-measure exceeds threshold."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    scored = ((scorer.score(a, b)["rougeL"].fmeasure, a, b) for a, b in pairs)
    return [s for s in scored if s[0] > threshold]


def test_at_least_175_tasks(seeds):
    assert len(seeds) >= 175


def test_each_task_has_the_self_instruct_fields(seeds):
    for n, task in enumerate(seeds, start=1):
        where = f"{SEEDS.name}:{n}"
        assert set(task) == {"id", "name", "instruction", "instances", "is_classification"}, where
        assert isinstance(task["id"], str) and re.fullmatch(r"seed_task_\d+", task["id"]), where
        assert isinstance(task["name"], str) and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", task["name"]), where
        assert isinstance(task["instruction"], str) and task["instruction"].strip(), where
        assert isinstance(task["is_classification"], bool), where
        assert isinstance(task["instances"], list) and task["instances"], where
        for instance in task["instances"]:
            assert set(instance) == {"input", "output"}, where
            assert isinstance(instance["input"], str), where
            assert isinstance(instance["output"], str) and instance["output"].strip(), where


def test_ids_and_names_are_unique(seeds):
    ids = [t["id"] for t in seeds]
    names = [t["name"] for t in seeds]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)


def test_classification_outputs_are_short_labels(seeds):
    # A label per line (one line, or one per listed item): long prose would teach the wrong format.
    for task in (t for t in seeds if t["is_classification"]):
        for line in task["instances"][0]["output"].splitlines():
            assert len(line.split()) <= 6, (task["name"], line)


def test_mix_has_inputs_and_no_inputs(seeds):
    with_input = sum(bool(t["instances"][0]["input"].strip()) for t in seeds)
    assert 0.4 <= with_input / len(seeds) <= 0.8
    assert sum(t["is_classification"] for t in seeds) >= 20


def test_every_task_has_a_category(seeds):
    categories = json.loads(CATEGORIES.read_text(encoding="utf-8"))
    assert set(categories) == {t["name"] for t in seeds}
    assert all(isinstance(c, str) and c for c in categories.values())


def test_no_two_seeds_are_near_duplicates(seeds):
    instructions = [t["instruction"] for t in seeds]
    assert pairs_above(combinations(instructions, 2), ROUGE_THRESHOLD) == []


def test_seeds_are_not_near_duplicates_of_self_instruct_seeds(seeds, shared_data):
    originals = [t["instruction"] for t in load_lines(shared_data / "seed_tasks.jsonl")]
    assert len(originals) == 175
    ours = [t["instruction"] for t in seeds]
    assert pairs_above(((a, b) for a in ours for b in originals), ROUGE_THRESHOLD) == []


def test_near_duplicate_check_catches_a_planted_pair():
    # Guards the two tests above against a check that can never fail.
    pairs = [("Translate the sentence into French.", "Translate the sentence into Spanish.")]
    assert len(pairs_above(pairs, ROUGE_THRESHOLD)) == 1
