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
    root, version = tiny_registry
    monkeypatch.setenv("SELFINSTRUCT_REGISTRY", root)  # the root comes from the environment
    out = train(load_config(None, ["max_length=128", "max_steps=2", "global_batch_size=8",
                                   "per_device_batch_size=4", "progress_bar=false"],
                            dataset="tiny@1", model=str(tiny_model), output=str(tmp_path / "out")))
    meta = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert meta["datasets"] == ["tiny@1"]
    assert meta["training_data"]["content_hash"] == version.hash
    uses = registry.list_uses(registry.resolve("tiny@1", root=root), root=root)
    assert len(uses) == 1
    use = uses[0]
    assert use["kind"] == "finetune" and use["steps"] == 2
    assert use["output"] == str(out.resolve()) and use["model"] == str(tiny_model)
    assert isinstance(use["final_loss"], float)


def test_unknown_version_fails_before_training(tmp_path, tiny_registry, tiny_model):
    root, _ = tiny_registry
    cfg = load_config(None, ["max_length=128"], dataset="tiny@9", model=str(tiny_model),
                      output=str(tmp_path / "out"), registry=root)
    with pytest.raises(ValueError, match="unknown dataset version 'tiny@9'"):
        train(cfg)
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
