"""The "models trained on this version" rows: win rate and LC rate with their intervals, old entries included."""

from __future__ import annotations

from registry.evaluations import evaluation_rows

NEW = {"set_name": "alpaca_eval", "n": 805, "against": "gpt4_1106_preview", "judge": "j", "judge_prompt_sha256": "ab",
       "win_rate": 0.0259, "ci_low": 0.0166, "ci_high": 0.036, "lc_win_rate": 0.1982, "lc_ci_low": 0.1252,
       "lc_ci_high": 0.2859}


def model(*evaluations) -> dict:
    return {"output": "/runs/tiny", "base_model": "base", "status": "finished", "evaluations": list(evaluations)}


def test_an_evaluation_shows_both_intervals():
    [row] = evaluation_rows([model(NEW)])
    assert row[2] == "2.6% [1.7, 3.6], LC 19.8% [12.5, 28.6]"


def test_entries_recorded_before_the_lc_interval_still_show():
    old = {k: v for k, v in NEW.items() if k not in ("lc_ci_low", "lc_ci_high")}
    no_lengths = {**old, "lc_win_rate": None}
    no_interval = {k: v for k, v in old.items() if k not in ("ci_low", "ci_high")}
    rows = evaluation_rows([model(old, no_lengths, no_interval)])
    assert [r[2] for r in rows] == ["2.6% [1.7, 3.6], LC 19.8%", "2.6% [1.7, 3.6]", "2.6%, LC 19.8%"]
