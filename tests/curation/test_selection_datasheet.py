"""A version made by `registry select` states in its datasheet how it was chosen."""

from __future__ import annotations

import polars as pl

import registry
from curation.select import select_version
from registry.datasheet import render_markdown
from tests.registry.test_layer_views import add_layer


def test_the_datasheet_of_a_selection_states_its_rule_what_it_kept_and_dropped_and_missing_scores(tmp_path):
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": [f"Write line {i}." for i in range(8)], "input": [""] * 8,
                          "output": [f"Line {i}." for i in range(8)]})
    parent = registry.commit(frame, name="p", lineage={"operation": "import"}, root=root)
    add_layer(parent, "judge", [5.0, 4.5, None, 2.0, 4.5, 0.0, None, 3.0], [None] * 8, root, frame=frame)
    chosen = select_version(parent.ref, into="good", where=["judge>=3"], top=2, by="judge", root=root)
    md = render_markdown(registry.resolve(chosen.ref, root=root), root=root)
    part = md.split("## Preprocessing and cleaning", 1)[1].split("## Score layers", 1)[0]
    assert ("Selected from p@1 by score layers with `where judge>=3; top 2 by judge (highest first)`: kept **2** of "
            "8 rows and dropped **6**.") in part
    for line in ("| Parent rows | 8 |", "| Passed the where conditions | 4 |", "| Kept | 2 |", "| Dropped | 6 |",
                 "| Rows without a score in `judge` | 2 |"):
        assert line in part
    assert "| `judge` | judge, model judge-&lt;b&gt;m&lt;/b&gt; |" in part
