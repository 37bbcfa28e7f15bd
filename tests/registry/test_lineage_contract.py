"""The lineage contract: every stored lineage reads, and writes back the same keys in the same order."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import registry
from records.lineage import Generator, Lineage, Seeds
from registry.datasheet import render_markdown
from registry.importing import import_file
from registry.verify import verify
from registry.versions import as_store, manifest_path
from modelcalls.accounting import Usage
from selfinstruct.config import GenerateConfig
from selfinstruct.generate import build_lineage
from tests.registry.conftest import make_frame

# Shapes earlier writers stored: a generation, an import naming a provider only (model null), a
# licence spelled `license`, an unknown key, and a generator written as a bare string.
STORED = [
    {"operation": "generate", "method": "alpaca", "parameters": {"model": "m"}, "counts": {"kept": 2},
     "drops": {}, "generator": {"model": "m", "provider": "openai", "endpoint_host": "h:1", "api": "chat",
                                "decoding": {"temperature": 1.0}},
     "prompt": {"sha256": "p", "path": None}, "in_context": {"seed_examples": 3, "machine_examples": 0},
     "seeds": {"name": "s", "sha256": "x", "count": 5, "path": "/s.jsonl", "licence": None},
     "random_seed": 42, "usage": {}, "time_window": {"started": "a", "finished": "b"}, "run_dir": "/r",
     "filters": {"profile": "strict", "minhash_threshold": None}},
    {"operation": "import", "parameters": {"format": "jsonl"}, "source": {"path": "/a.jsonl", "sha256": "y"},
     "counts": {"before": 2, "after": 2}, "generator": {"model": None, "provider": "openai"}},
    {"license": "MIT", "operation": "import", "added_later": {"k": [1, None]}},
    {"operation": "import", "generator": "gpt-4"},
    {},
]


@pytest.mark.parametrize("stored", STORED)
def test_a_stored_lineage_round_trips_to_the_same_json(stored):
    assert json.dumps(Lineage.from_dict(stored).to_dict()) == json.dumps(stored)


def test_given_nulls_are_written_and_unset_fields_are_not():
    lin = Lineage(operation="import", generator=Generator(model=None, provider="p"))
    lin.seeds = Seeds(name="s", licence=None)
    assert lin.to_dict() == {"operation": "import", "generator": {"model": None, "provider": "p"},
                             "seeds": {"name": "s", "licence": None}}
    assert Lineage.from_dict({"license": "MIT"}).declared_licence() == "MIT"
    assert not Lineage.from_dict({"generator": {}}).generator


@pytest.mark.parametrize("method", ["alpaca", "self-instruct"])
def test_a_generation_lineage_keeps_its_stored_key_order(method):
    cfg = GenerateConfig(model="m", method=method, response_model="answerer" if method != "alpaca" else None)
    stats = SimpleNamespace(requests=3, prompts=3, candidates=9, lists=2, tasks=4, instances=4, awaiting_instance=0,
                            drops={"long": 1})
    result = SimpleNamespace(stats=stats, records=[{}], kept=[{}], usage=Usage(), run_dir=Path("/runs/r1"))
    seeds = SimpleNamespace(name="s", sha256="x", tasks=[1, 2], path=None, licence=None)
    template = SimpleNamespace(sha256="t", path="/t.txt")
    lineage = build_lineage(cfg, "openai", "h:1", seeds, template, result, "a", "b", replayed_from="/runs/r0")
    assert list(lineage) == ["operation", "method", "parameters", "counts", "drops", "generator", "prompt",
                             "in_context", "seeds", "random_seed", "usage", "time_window", "run_dir", "filters",
                             "replayed_from"]
    assert list(lineage["seeds"]) == ["name", "sha256", "count", "path", "licence"]
    assert ("response" in lineage["generator"]) == (method != "alpaca")
    assert json.dumps(Lineage.from_dict(lineage).to_dict()) == json.dumps(lineage)


def test_an_import_writes_the_keys_it_always_wrote(tmp_path, root):
    path = tmp_path / "a.jsonl"
    path.write_text('{"instruction": "Say hi.", "input": "", "output": "hi"}\n')
    v = import_file(path, name="a", licence="MIT", provider="openai", root=root)
    stored = json.loads(Path(manifest_path(as_store(root), "a", 1)).read_text())["lineage"]
    assert list(stored) == ["operation", "parameters", "source", "counts", "licence", "generator"]
    assert stored["generator"] == {"model": None, "provider": "openai"}
    assert v.lineage.generator.provider == "openai"


@pytest.mark.parametrize("stored", STORED)
def test_any_stored_lineage_commits_sealed_and_renders(stored, root):
    v = registry.commit(make_frame(3), name="d", lineage=stored, root=root)
    assert v.manifest["lineage"] == stored and list(v.manifest["lineage"]) == list(stored)
    assert verify(root=root).ok
    assert "## Collection process" in render_markdown(v, root=root)
