"""The version page's lineage graph: a model fine-tuned on the version, and its scores beside it."""

from __future__ import annotations

import polars as pl

import registry
from registry.versions import as_store, resolve
from webapp import lineage


def test_models_trained_on_a_version_carry_their_evaluation_scores(tmp_path):
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["a", "b"], "input": ["", ""], "output": ["x", "y"]})
    registry.commit(frame, name="ds", lineage={"operation": "import"}, root=root)
    registry.commit(frame.head(1), name="ds", lineage={"operation": "filter"}, parents=["ds@1"], root=root)
    registry.record_use("ds@1", {"kind": "finetune", "model": "/m/base", "output": "/runs/tiny", "final_loss": 7.18},
                        root=root)
    registry.record_use("ds@1", {"kind": "answers", "model_output": "/runs/tiny", "answers": "/a.json"}, root=root)
    registry.record_use("ds@1", {"kind": "evaluation", "model_output": "/runs/tiny", "against": "text_davinci_003",
                                 "win_rate": 0.0357, "ci_low": 0.0198, "ci_high": 0.0536, "lc_win_rate": 0.01},
                        root=root)
    store = as_store(root)
    g = lineage.graph(resolve("ds@1", root=store), store)
    by_title = {n["title"]: n for n in g["nodes"]}
    assert set(by_title) == {"ds@1 · 2 rows", "ds@2 · 1 rows", "model: tiny", "vs text_davinci_003"}
    assert by_title["model: tiny"]["detail"] == "from base, loss 7.18"
    assert by_title["vs text_davinci_003"]["detail"] == "win 3.6% [2.0, 5.4], LC 1.0%"
    assert by_title["vs text_davinci_003"]["col"] == by_title["model: tiny"]["col"] + 1
    # the model hangs off its own version, never drawn behind a later version's box
    assert by_title["model: tiny"]["col"] == by_title["ds@2 · 1 rows"]["col"] == 1
    assert by_title["model: tiny"]["y"] != by_title["ds@2 · 1 rows"]["y"]


def test_the_chat_page_names_the_versions_its_model_was_trained_on(tmp_path):
    from webapp.chat import ChatService

    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["a"], "input": [""], "output": ["x"]})
    registry.commit(frame, name="ds", lineage={"operation": "import"}, root=root)
    registry.commit(frame, name="other", lineage={"operation": "import"}, root=root)
    model = tmp_path / "runs" / "tiny"
    registry.record_use("ds@1", registry.Use(kind="finetune", output=str(model.resolve()), status="finished"),
                        root=root)
    registry.record_use("other@1", registry.Use(kind="finetune", output="/elsewhere"), root=root)
    found = ChatService(model=str(model)).trained_on(as_store(root))
    assert [(t["ref"], t["use"]["kind"]) for t in found] == [("ds@1", "finetune")]
