"""The "used by" contract: finetune and evaluation write Use entries, the registry reads them typed."""

import json

import pytest

import registry
from registry.uses import Use, list_uses, read_uses, record_use
from registry.versions import as_store, dataset_dir
from tests.registry.conftest import make_frame


def stored_entries(root, version) -> list[dict]:
    store = as_store(root)
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    return [json.loads(store.read_bytes(f"{folder}/{n}")) for n in sorted(store.listdir(folder))]


def test_a_run_recorded_at_start_and_end_is_one_typed_use(root):
    v = registry.commit(make_frame(3), name="d", lineage={"operation": "import"}, root=root)
    started = Use(kind="finetune", run_id="r1", status="running", seq=0, output="/m", model="base", recipe="alpaca",
                  started="2026-01-01T00:00:00+00:00")
    record_use(v, started, root=root)
    record_use(v, started.updated(status="finished", seq=1, steps=2, final_loss=1.5), root=root)
    [use] = read_uses(v, root=root)
    assert (use.kind, use.status, use.steps, use.output, use.version, use.hash) == ("finetune", "finished", 2, "/m",
                                                                                  "d@1", v.hash)
    first = next(e for e in stored_entries(root, v) if e["seq"] == 0)
    assert list(first) == ["recorded", "version", "hash", "kind", "run_id", "status", "seq", "output", "model",
                           "recipe", "started"]  # no nulls for the fields other kinds use


def test_entries_written_as_dicts_read_and_keep_unknown_keys(root):
    v = registry.commit(make_frame(3), name="d", lineage={"operation": "import"}, root=root)
    record_use(v, {"kind": "answers", "model_output": "/m", "items": 3, "note": "by hand"}, root=root)
    stored = list_uses(v, root=root)[0]
    use = Use.from_dict(stored)
    assert (use.kind, use.items, use.extra) == ("answers", 3, {"note": "by hand"})
    assert json.dumps(use.to_dict()) == json.dumps(stored)


def test_an_update_names_only_fields_the_entry_has():
    with pytest.raises(TypeError, match="no field"):
        Use(kind="finetune").updated(stauts="finished")
