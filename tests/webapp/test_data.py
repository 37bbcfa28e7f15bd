"""Web app data: a version of 0 rows (records page, diff), and pairing answer files for a study."""

from __future__ import annotations

import polars as pl

import registry
from records.schema import RECORD_FIELDS
from registry.diff import diff
from registry.versions import as_store, resolve
from webapp import records


def test_a_version_of_zero_rows_keeps_its_columns_for_the_records_page_and_diff(tmp_path):
    root = str(tmp_path / "reg")
    registry.commit(pl.DataFrame(schema={c: pl.String for c in RECORD_FIELDS}), name="empty",
                    lineage={"operation": "import"}, root=root)
    registry.commit(pl.DataFrame({"instruction": ["a"], "input": [""], "output": ["x"]}), name="one",
                    lineage={"operation": "import"}, root=root)
    assert registry.open("empty@1", root=root).columns == list(RECORD_FIELDS)
    store = as_store(root)
    table = records.table(resolve("empty@1", root=store), store)
    assert table.height == 0 and set(RECORD_FIELDS) <= set(table.columns)
    assert diff("empty@1", "one@1", root=root) is not None


def test_a_study_pairs_answers_with_a_separate_input_and_published_outputs_that_fold_it_in():
    import json

    from evaluation.outputs import parse_model_outputs
    from webapp.study_files import items_from_answers

    ours = [{"instruction": "Fix the grammar.", "input": "He go home.", "output": "He goes home."},
            {"instruction": "Name a river.", "output": "Nile"}]
    published = [{"instruction": "Name a river.", "output": "Congo"},
                 {"instruction": "Fix the grammar.\n\nHe go home.", "output": "He went home."},
                 {"instruction": "Something else.", "output": "x"}]
    a, b = (parse_model_outputs(json.dumps(rows), label, default_generator=fallback)
            for rows, label, fallback in ((ours, "answers_1", "system 1"), (published, "answers_2", "system 2")))
    items, unpaired = items_from_answers(a, b)
    assert items == [{"instruction": "Fix the grammar.", "input": "He go home.", "output_1": "He goes home.",
                      "output_2": "He went home."},
                     {"instruction": "Name a river.", "input": "", "output_1": "Nile", "output_2": "Congo"}]
    assert unpaired == 1 and (a.generator, b.generator) == ("system 1", "system 2")


def test_judgments_kept_for_a_study_hold_numeric_preferences():
    import json

    from webapp.study_files import judge_rows

    rows = [{"instruction": f"q{k}", "output_1": "a", "output_2": "b", "preference": p}
            for k, p in enumerate(["1.75", 0, None, 2])]
    assert [r["preference"] for r in json.loads(judge_rows(rows))] == [1.75, 1.5, None, 2.0]


def test_judge_agreement_tells_apart_items_with_one_instruction_and_different_inputs(tmp_path):
    import json

    from tests.webapp.test_results import vote_for
    from webapp import results
    from webapp.studies import Studies

    studies = Studies(tmp_path / "s.sqlite")
    items = [{"instruction": "Fix the grammar.", "input": text, "output_1": f"one {k}", "output_2": f"two {k}"}
             for k, text in enumerate(["He go home.", "She are here."])]
    study = studies.create("s", "sys-a", "sys-b", items)
    ann = studies.add_rater(study.id, "Ann")
    vote_for(studies, study, ann, 1, 1)
    vote_for(studies, study, ann, 2, 2)
    judge = [{"instruction": "Fix the grammar.", "input": "He go home.", "generator_1": "sys-a", "generator_2": "sys-b",
              "preference": 1.0},
             {"instruction": "Fix the grammar.\n\nShe are here.", "generator_1": "sys-a", "generator_2": "sys-b",
              "preference": 2.0}]  # AlpacaEval folds the input into the instruction
    studies.attach_judge(study.id, json.dumps(judge))
    r = results.results(studies, studies.get(study.id))
    assert r["judge"]["matched_items"] == 2 and r["judge"]["agreement"] == 1.0


def test_datasheet_page_computes_the_rows_facts_once_and_shows_new_uses(tmp_path, monkeypatch):
    from registry import facts
    from webapp import datasheets

    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["Write a poem.", "List three colours."], "input": ["", ""],
                          "output": ["Roses.", "Red, green, blue."]})
    v = registry.commit(frame, name="sheet", lineage={"operation": "import"}, root=root)
    store = as_store(root)
    calls = []
    original = facts.content_facts

    def counted(*args, **kwargs):
        calls.append(args[0].ref)
        return original(*args, **kwargs)

    monkeypatch.setattr(datasheets, "content_facts", counted)
    first = datasheets.page(v, store)
    assert datasheets.page(v, store) == first
    registry.record_use(v, {"kind": "finetune", "output": "/models/poet", "model": "tiny", "run_id": "r1",
                            "status": "finished"}, root=root)
    third = datasheets.page(v, store)
    assert "/models/poet" in third and "/models/poet" not in first  # the side logs are read every time
    assert calls == ["sheet@1"]  # the rows' facts were computed once
