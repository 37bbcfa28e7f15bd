"""eval judge's results.json is replaced whole, never rewritten in place."""

from __future__ import annotations

import json

from tests.evaluation.test_judge import run_judge, write_answers
from tests.judge_server import JudgeServer


def test_results_replace_a_previous_file_instead_of_writing_through_it(tmp_path):
    a = write_answers(tmp_path / "a.json", "model-a", [3, 1, 3, 1])
    b = write_answers(tmp_path / "b.json", "model-b", [1, 3, 1, 3])
    out = tmp_path / "ab"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}\n")
    (out / "results.json").symlink_to(elsewhere)  # a file written in place is written through its link
    with JudgeServer() as server:
        results = run_judge(server, a, b, out)
    assert elsewhere.read_text() == "{}\n"
    assert json.loads((out / "results.json").read_text())["n"] == results["n"] == 4
