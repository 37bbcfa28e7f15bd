"""The printed results table, for results of today and results.json files written before the LC interval."""

from __future__ import annotations

from evaluation.report import results_record, summary_rows
from evaluation.stats import pairwise_stats


def test_summary_shows_the_length_controlled_interval():
    result = pairwise_stats([1, 0, 1, 0.5, 1], len_a=[50, 20, 80, 40, 60], len_b=[40] * 5, n_boot=100)
    rows = dict(summary_rows(results_record(result, model_a="a", model_b="b")))
    low, high = result.lc_ci_low, result.lc_ci_high
    assert rows["95% interval, refitted on the same resamples"] == f"{100 * low:.2f}% - {100 * high:.2f}%"


def test_results_written_before_the_interval_still_print():
    old = {"model_a": "a", "model_b": "b", "n": 4, "wins": 2, "losses": 1, "ties": 1, "win_rate": 0.625,
           "ci_low": 0.25, "ci_high": 1.0, "p_value": 1.0, "lc_win_rate": 0.6, "mean_len_a": 10.0, "mean_len_b": 9.0}
    rows = dict(summary_rows(old))
    assert rows["length-controlled, our fit (no difficulty)"] == "60.00%"
    assert rows["95% interval, refitted on the same resamples"] == "n/a"


def test_split_items_are_shown_apart_from_wins_and_losses():
    result = pairwise_stats([1, 0.75, 0.25, 0.5, 0], split=[False, True, True, False, False], n_boot=10)
    rows = dict(summary_rows(results_record(result, model_a="a", model_b="b")))
    assert rows["wins / losses / ties of A"] == "1 / 1 / 1, split 1 / 1"
    assert "sign test p (ties and split items dropped)" in rows
    assert dict(summary_rows(results_record(pairwise_stats([1, 0], n_boot=10), model_a="a", model_b="b")))[
        "wins / losses / ties of A"] == "1 / 1 / 0"
