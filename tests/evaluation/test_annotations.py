"""AlpacaEval annotations: preference parsing, round trip, and the published leaderboard figures."""

from __future__ import annotations

import json

import pytest

from evaluation.annotations import (annotation_scores, missing_preferences, preference_score, read_annotations,
                                    scored_rows, write_annotations)
from evaluation.stats import pairwise_stats
from records.errors import InputError


@pytest.mark.parametrize("value,score", [(1, 0.0), (2, 1.0), (0, 0.5), (1.5, 0.5), ("1.0000001827", 1.827e-7),
                                         (1.25, 0.25), (None, None), (float("nan"), None)])
def test_preference_score(value, score):
    got = preference_score(value)
    assert got == (pytest.approx(score) if score is not None else None)


def row(pref, i=0):
    return {"instruction": f"q{i}", "output_1": "a", "output_2": "b", "generator_1": "x", "generator_2": "y",
            "preference": pref}


def test_missing_preferences_are_skipped_and_counted(tmp_path):
    rows = [row(2, 0), row(None, 1), row(1, 2), row(float("nan"), 3)]
    write_annotations(rows, tmp_path / "a.json")
    back = read_annotations(tmp_path / "a.json")
    assert [r["instruction"] for r in back] == ["q0", "q1", "q2", "q3"]
    assert annotation_scores(back) == [1.0, 0.0]
    assert [r["instruction"] for r in scored_rows(back)] == ["q0", "q2"]
    assert missing_preferences(back) == 2


def test_bad_preference_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([row(2), row(7)], indent=2))
    with pytest.raises(InputError) as e:
        read_annotations(path)
    assert str(e.value).startswith(f"{path}:") and "'preference'" in str(e.value)
    assert e.value.line == 10


@pytest.mark.shared
def test_reproduces_alpaca_eval_1(shared_data):
    rows = read_annotations(shared_data / "alpaca_eval" / "alpaca-7b.alpaca_eval_gpt4.annotations.json")
    r = pairwise_stats(annotation_scores(rows), n_boot=200)
    assert (r.wins, r.losses, r.ties) == (205, 584, 16)
    assert round(100 * r.win_rate, 2) == 26.46


@pytest.mark.shared
def test_reproduces_alpaca_eval_2_weighted(shared_data):
    rows = read_annotations(shared_data / "alpaca_eval" / "alpaca-7b.weighted_alpaca_eval_gpt4_turbo.annotations.json")
    r = pairwise_stats(annotation_scores(rows), n_boot=200)
    assert r.n == 805 and round(100 * r.win_rate, 2) == 2.59


def test_annotations_text_reads_as_the_file_does(tmp_path):
    from evaluation.annotations import parse_annotations

    text = json.dumps([row(2, 0), row("1.25", 1)], indent=2)
    path = tmp_path / "a.json"
    path.write_text(text)
    assert parse_annotations(text, "upload") == read_annotations(path)
    with pytest.raises(InputError, match=r"^upload:1: field 'output_2' is missing"):
        parse_annotations('{"instruction": "q", "output_1": "a"}', "upload")


@pytest.mark.shared
@pytest.mark.parametrize("name, lc, interval", [
    ("alpaca-7b.alpaca_eval_gpt4.annotations.json", 25.68, (22.29, 28.96)),
    ("alpaca-7b.weighted_alpaca_eval_gpt4_turbo.annotations.json", 19.82, (12.52, 28.59)),
])
def test_length_controlled_rate_and_its_interval_on_alpaca_eval(shared_data, name, lc, interval):
    rows = read_annotations(shared_data / "alpaca_eval" / name)
    kept = scored_rows(rows)
    r = pairwise_stats(annotation_scores(rows), len_a=[len(k["output_2"]) for k in kept],
                       len_b=[len(k["output_1"]) for k in kept], n_boot=2000, seed=0)
    assert r.lc_ci_low < r.lc_win_rate < r.lc_ci_high
    assert round(100 * r.lc_win_rate, 2) == lc
    assert (round(100 * r.lc_ci_low, 2), round(100 * r.lc_ci_high, 2)) == interval
