"""A tiny random Llama saved the way finetune saves a model: with its training template recorded."""

from __future__ import annotations

CORPUS = ["Name a river in Africa.", "Add the two numbers.", "Explain how long to boil an egg.",
          "Below is an instruction that describes a task. ### Instruction: ### Response:"] * 20
_built: dict = {}


def tiny_alpaca(tmp_path_factory):
    """Built once per test session (a module-level cache, so every test module shares it)."""
    if "path" not in _built:
        from finetune.templates import TEMPLATE_FILE, load_template, save_template
        from finetune.tiny import save_tiny_model

        path = save_tiny_model(tmp_path_factory.mktemp("tiny-alpaca"), CORPUS, vocab_size=300)
        save_template(load_template("alpaca"), path / TEMPLATE_FILE)
        _built["path"] = path
    return _built["path"]
