"""Fine-tuning on a registered version: model card names it, the registry records the use."""

from __future__ import annotations

import pytest
import yaml

from finetune.config import load_config
from finetune.train import train

registry = pytest.importorskip("registry")
if not hasattr(registry, "commit"):  # pragma: no cover - older registry packages
    pytest.skip("the registry package has no commit()", allow_module_level=True)


@pytest.fixture
def tiny_registry(tmp_path, records):
    import polars as pl

    root = str(tmp_path / "registry")
    version = registry.commit(pl.DataFrame(records[:24]), name="tiny",
                              lineage={"operation": "import"}, root=root)
    return root, version


def test_finetune_on_registered_version_records_use(tmp_path, tiny_registry, tiny_model, monkeypatch):
    import importlib

    from registry.gc import retire
    from registry.versions import as_store

    root, version = tiny_registry
    monkeypatch.setenv("SELFINSTRUCT_REGISTRY", root)  # the root comes from the environment
    seen_at_export = []

    def retire_then_export(*args, **kwargs):  # the version is retired while the run trains
        seen_at_export.extend(registry.list_uses(version, root=root))
        retire(as_store(root), version)
        return export_model(*args, **kwargs)

    train_module = importlib.import_module("finetune.train")  # the package exports train() under that name
    export_model = train_module.export_model
    monkeypatch.setattr(train_module, "export_model", retire_then_export)
    out = train(load_config(None, ["max_length=128", "max_steps=2", "global_batch_size=8",
                                   "per_device_batch_size=4", "progress_bar=false"],
                            dataset="tiny@1", model=str(tiny_model), output=str(tmp_path / "out")))
    meta = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert meta["datasets"] == ["tiny@1"]
    assert meta["training_data"]["content_hash"] == version.hash
    assert [u["status"] for u in seen_at_export] == ["running"]  # recorded before training ended
    with pytest.raises(registry.RegistryError):
        registry.resolve("tiny@1", root=root)
    uses = registry.list_uses(version, root=root)
    assert len(uses) == 1
    use = uses[0]
    assert use["kind"] == "finetune" and use["steps"] == 2 and use["status"] == "finished"
    assert use["output"] == str(out.resolve()) and use["model"] == str(tiny_model)
    assert isinstance(use["final_loss"], float)


def test_unknown_version_fails_before_training(tmp_path, tiny_registry, tiny_model):
    root, _ = tiny_registry
    cfg = load_config(None, ["max_length=128"], dataset="tiny@9", model=str(tiny_model),
                      output=str(tmp_path / "out"), registry=root)
    with pytest.raises(ValueError, match="unknown version 'tiny@9'") as error:
        train(cfg)
    assert str(error.value).count("tiny@9") == 1  # said once, not wrapped in a second "unknown ..."
    assert not (tmp_path / "out").exists()


def test_model_card_hash_of_a_file_equals_the_version_made_from_it(tmp_path, records_file, tiny_model):
    """Train on a file, import the same file: the card's hash names that version."""
    out = train(load_config(None, ["max_length=128", "max_steps=1", "global_batch_size=8",
                                   "per_device_batch_size=4", "progress_bar=false"],
                            dataset=str(records_file), model=str(tiny_model), output=str(tmp_path / "out")))
    card_hash = yaml.safe_load((out / "README.md").read_text().split("---")[1])["training_data"]["content_hash"]
    from registry.importing import import_file

    version = import_file(records_file, name="fromfile", root=str(tmp_path / "registry"))
    assert card_hash == f"sha256:{version.hash}"
    assert registry.import_hash(records_file) == version.hash


def test_a_run_that_dies_is_marked_failed_not_left_running(tmp_path, tiny_registry, tiny_model, monkeypatch):
    import importlib

    from registry.evaluations import evaluation_rows, trained_models

    root, version = tiny_registry
    train_module = importlib.import_module("finetune.train")

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail")

    monkeypatch.setattr(train_module, "train_step", out_of_memory)
    cfg = load_config(None, ["max_length=128", "max_steps=2", "global_batch_size=8", "per_device_batch_size=4",
                             "progress_bar=false"], dataset="tiny@1", model=str(tiny_model),
                      output=str(tmp_path / "out"), registry=root)
    with pytest.raises(RuntimeError, match="out of memory"):
        train(cfg)
    [use] = registry.list_uses(version, root=root)
    assert use["status"] == "failed" and use["error"] == "CUDA out of memory. Tried to allocate 2.00 GiB"
    [model] = trained_models(version, root=root)
    assert model["status"] == "failed"
    assert evaluation_rows([model])[0][0].endswith("[training failed]")


def test_the_exported_model_carries_its_training_record(tmp_path, tiny_registry, tiny_model):
    from evaluation.lineage import training_run
    from finetune.training_record import read_training_record

    root, version = tiny_registry
    out = train(load_config(None, ["max_length=128", "max_steps=1", "global_batch_size=8",
                                   "per_device_batch_size=4", "progress_bar=false"],
                            dataset="tiny@1", model=str(tiny_model), output=str(tmp_path / "out"), registry=root))
    (out / "README.md").unlink()  # evaluation reads the record, not the card
    record = read_training_record(out)
    assert (record.dataset, record.from_registry, record.steps) == ("tiny@1", True, 1)
    assert record.content_hash.endswith(version.hash) and record.template and record.base_model == str(tiny_model)
    assert training_run(out)["dataset"] == "tiny@1"
