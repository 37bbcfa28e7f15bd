"""Published cards render hostile values as text: no raw HTML, no javascript: links, intact front matter."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from markdown_it import MarkdownIt

import registry
from registry.datasheet import render_markdown
from registry.datasheet_html import render_html
from registry.escape import markdown_inline_to_html, md_code, md_text
from registry.facts import collect_facts
from registry.human import set_sections

from .conftest import make_frame

LICENCE = "cc---\n---\n`<script>alert(1)</script>`"
GENERATOR = '<img src=x onerror="alert(1)">'
PROVIDER = "[click me](javascript:alert(1))"
ANSWER = ("Made by <b onclick=alert(1)>us</b>. See [the docs](https://example.org/docs?a=1&b=2) "
          "or [this](javascript:alert(2)) and ![pixel](https://tracker.example/p.gif).\n\n# not a heading")
DANGEROUS = ("<script", "<img", "<b ", "<b>", 'href="javascript')


def rendered(markdown: str) -> str:
    """Markdown as a CommonMark renderer with raw HTML and GFM tables turns it into a page; it is told to
    accept every link scheme, so only our escaping can keep javascript: out."""
    md = MarkdownIt("commonmark").enable("table")
    md.validateLink = lambda url: True
    return md.render(markdown)


def front_and_body(card: str) -> tuple[dict, str]:
    """Split the way the Hub does: the first line `---`, up to the next line that is exactly `---`."""
    lines = card.split("\n")
    assert lines[0] == "---"
    end = lines.index("---", 1)
    return yaml.safe_load("\n".join(lines[1:end])), "\n".join(lines[end + 1:])


@pytest.fixture
def hostile(root):
    v = registry.commit(make_frame(15), name="notes", root=root,
                        lineage={"operation": "import", "licence": LICENCE,
                                 "generator": {"model": GENERATOR, "provider": PROVIDER}})
    set_sections(v.ref, {"motivation": ANSWER}, root=root)
    return v


def check_markdown(card: str) -> None:
    meta, body = front_and_body(card)
    assert meta["license"] == LICENCE.lower() and body.lstrip().startswith("# Datasheet: notes@1")
    page = rendered(body)
    for bad in DANGEROUS:
        assert bad not in page, bad
    assert "<h1>" in page and page.count("<h2>") == 9  # one per section, Score layers included
    assert '<a href="https://example.org/docs?a=1&amp;b=2">the docs</a>' in page  # an http(s) link survives
    assert "<p># not a heading</p>" in page and "<img" not in page  # no heading, no tracking image
    assert "<code>cc--- --- `&lt;script&gt;alert(1)&lt;/script&gt;`</code>" in page  # the code span holds


def test_markdown_datasheet_and_hf_readme_escape_every_value(root, hostile, tmp_path):
    check_markdown(render_markdown(hostile, root=root))
    from registry.export import export

    out = export(hostile.ref, "hf", tmp_path / "hf", root=root)
    card = (out / "README.md").read_text()
    check_markdown(card)
    assert front_and_body(card)[0]["dataset_info"]["splits"][0]["num_examples"] == 15


def test_html_datasheet_escapes_and_keeps_its_front_matter_whole(root, hostile):
    page = render_html(collect_facts(hostile, root=root))
    body = page.split("</details>", 1)[1]
    for bad in DANGEROUS:
        assert bad not in body, bad
    front = re.search(r'<div class="front">(.*?)</div>', page, re.S).group(1)
    assert yaml.safe_load(html.unescape(front))["license"] == LICENCE.lower()
    assert "<h1>Datasheet: notes@1</h1>" in body and body.count("<h2>") == 9
    assert '<a href="https://example.org/docs?a=1&amp;b=2">the docs</a>' in body
    assert html.escape(GENERATOR) in body  # shown as text, not as an element


@pytest.mark.parametrize("value", ["plain", "a`b", "``x``", "`", " lead", "<b>&amp;</b>", "cc---|x"])
def test_code_spans_hold_any_text(value):
    assert markdown_inline_to_html(md_code(value)) == f"<code>{html.escape(value)}</code>"


@pytest.mark.parametrize("value", ["*x*", "_y_ z", "[a](b)", "\\*", "a<b>&c", "# h", "![i](https://x/i.png)"])
def test_text_renders_literally(value):
    out = markdown_inline_to_html(md_text(value))
    assert html.unescape(out) == value and "<" not in out  # the same text, and no element


def test_model_card_escapes_model_path_dataset_and_output(tmp_path):
    from finetune.config import FinetuneConfig
    from finetune.export import render_model_card

    config = FinetuneConfig(dataset="<script>d</script>", model="/m/`<img src=x>`", output="runs/<b>x</b>",
                            recipe="[r](javascript:alert(1))")
    run = {"dataset": "<script>d</script>", "content_hash": "sha256:ab", "from_registry": False, "steps": 1,
           "accumulation": 1, "processes": 1, "precision": "fp32", "train_examples": 1, "eval_examples": 0,
           "final_loss": 1.0, "eval_loss": None, "padded_share": 0.0, "device": "cpu", "started": "s",
           "finished": "f"}
    card = render_model_card(config, run)
    meta, body = front_and_body(card)
    assert meta["base_model"] == "/m/`<img src=x>`"
    page = rendered(body)
    for bad in DANGEROUS:
        assert bad not in page, bad
