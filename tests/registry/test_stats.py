"""The leading verb computed in polars (web app filter) equals the per-text rule (datasheet figure)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from records.files import read_frame
from registry.stats import leading_verb, verb_object

EDGES = ["please\nwrite", "Please write a poem", "  --Write it", "'tis fine", "Éclair now", "x" * 299 + " write",
         "y" * 298 + " ab", "1. Summarize this", "please", "", "What is", "please what is", "Pl\u212aase go",
         "Re-write: this", "\n\nWrite it", None]


def _both(texts: list) -> tuple[list, list]:
    vectorised = pl.DataFrame({"t": texts}, schema={"t": pl.String}).select(leading_verb(pl.col("t"))).to_series().to_list()
    return [verb_object(t or "")[0] for t in texts], vectorised


def test_edge_cases_agree():
    by_text, vectorised = _both(EDGES)
    assert vectorised == by_text
    assert by_text[1] == "write" and by_text[11] is None  # "please" is skipped; a question is not a verb


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("abWP please-'\n .1É?")), max_size=40), min_size=1, max_size=20))
def test_any_text_agrees(texts):
    by_text, vectorised = _both(texts)
    assert vectorised == by_text


def test_alpaca_agrees(shared_data):
    texts = read_frame(shared_data / "alpaca_data.jsonl")["instruction"].to_list()
    by_text, vectorised = _both(texts)
    assert vectorised == by_text
    assert sum(v is not None for v in vectorised) > 40_000
