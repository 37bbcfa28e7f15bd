"""The fast text path of row_digests gives exactly the record hashes of the json-module definition."""

from __future__ import annotations

import random

import polars as pl

from records.hashing import row_digests, row_digests_python


def test_fast_record_hashes_match_the_definition_on_awkward_text():
    chars = [chr(i) for i in range(0x80)] + list("\u2028\u2029\u0085\ufeff\x7fé日😀\ue000\uffff")
    rnd = random.Random(7)
    texts = ["".join(rnd.choice(chars) for _ in range(rnd.randint(0, 10))) for _ in range(3000)]
    frame = pl.DataFrame({"output": texts, "instruction": texts[::-1], "input": [None if i % 5 == 0 else t
                                                                                  for i, t in enumerate(texts)],
                          "na\"me\\": texts})
    assert row_digests(frame) == row_digests_python(frame)
    assert row_digests(frame.select(pl.lit(None).alias("x"))) == row_digests_python(frame.select(pl.lit(None).alias("x")))
