"""A derived version's datasheet describes how its rows were collected, from the ancestor that records it."""

import polars as pl

import registry
from registry.datasheet import render_markdown


def test_derived_version_shows_the_ancestors_generator(tmp_path):
    root = str(tmp_path / "reg")
    frame = pl.DataFrame({"instruction": ["Name a river.", "Add two and three."], "input": ["", ""],
                          "output": ["Nile", "5"]})
    lineage = {"operation": "generate", "generator": {"model": "gpt-4o-mini", "provider": "openai",
                                                      "endpoint_host": "api.openai.com"}}
    registry.commit(frame, name="gen", lineage=lineage, root=root)
    child = registry.commit(frame.head(1), name="gen-small", lineage={"operation": "sample"}, parents=["gen@1"],
                            root=root)
    text = render_markdown(child, root=root)
    assert "| Collected in | gen@1 (an ancestor) |" in text
    assert "| Generator model | gpt-4o-mini |" in text and "| Operation | sample |" in text
