"""One self-contained HTML datasheet: the Markdown sections as HTML plus inline SVG figures."""

from __future__ import annotations

import html
import re
from pathlib import Path

from registry.datasheet import render_body, render_front_matter
from registry.escape import markdown_inline_to_html
from registry.plots import layer_histogram, length_histograms, novelty_histogram, verb_object_chart

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;vertical-align:top}
code{background:#f3f3f3;padding:0 .2rem}figure{margin:1rem 0}svg{max-width:100%;height:auto}
.front{background:#f7f7f7;padding:.5rem;font-size:.85rem;white-space:pre-wrap}"""


TEXT_HISTOGRAM = re.compile(r"<p>Distribution of the [\d,]+ scores:</p>\n<table>.*?</table>", re.S)
"""A layer's text histogram in the HTML made from the Markdown (registry/datasheet_layers.py)."""


def inline(text: str) -> str:
    """The datasheet's inline Markdown as HTML (shared rules with every other card: registry/escape.py)."""
    return markdown_inline_to_html(text)


def markdown_to_html(markdown: str) -> str:
    """Convert the datasheet's own Markdown subset (headings, tables, paragraphs) to HTML."""
    out, rows = [], []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.strip().splitlines()
        if all(line.startswith("|") for line in lines):
            cells = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
                     for line in lines if not re.match(r"^\|(-+\|)+$", line)]
            head, *rows = cells
            out.append("<table>" + ("<tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>"
                                    if any(head) else "")
                       + "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in rows)
                       + "</table>")
        elif block.startswith("#"):
            level = len(block) - len(block.lstrip("#"))
            out.append(f"<h{level}>{inline(block.lstrip('#').strip())}</h{level}>")
        else:
            out.append(f"<p>{inline(' '.join(lines))}</p>")
    return "\n".join(out)


def figures(facts: dict) -> str:
    parts = [("Words per field", length_histograms(facts["length_values"])),
             ("Leading verbs and objects", verb_object_chart(facts["verbs"]))]
    if facts.get("novelty"):
        parts.append(("ROUGE-L to the nearest seed", novelty_histogram(facts["novelty"])))
    return _figures(parts)


def with_layer_figures(body_html: str, facts: dict) -> str:
    """Each score layer's histogram as a plot in place of its text histogram (layer names are plain
    text: see registry/layers.py)."""
    for layer in facts.get("layers") or []:
        if not layer["histogram"]:
            continue
        heading = f"<h3>Layer <code>{html.escape(layer['name'])}</code></h3>"
        head, found, tail = body_html.partition(heading)
        if not found:
            continue
        figure = _figures([(f"Scores of layer {layer['name']}", layer_histogram(layer))])
        tail = TEXT_HISTOGRAM.sub(lambda _: figure, tail, count=1)
        body_html = head + heading + tail
    return body_html


def _figures(parts: list[tuple[str, str]]) -> str:
    return "\n".join(f"<figure>{svg}<figcaption>{html.escape(cap)}</figcaption></figure>" for cap, svg in parts)


def render_html(facts: dict, version=None) -> str:
    # Front matter and body are rendered apart: a value holding `---` cannot split them.
    front, body = render_front_matter(facts), render_body(facts)
    body_html = markdown_to_html(body)
    body_html = body_html.replace("<h2>Composition</h2>", "<h2>Composition</h2>\n" + figures(facts), 1)
    body_html = with_layer_figures(body_html, facts)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Datasheet {html.escape(facts['ref'])}"
            f"</title><style>{STYLE}</style></head><body>\n<details><summary>Hub metadata (YAML)</summary>"
            f"<div class=\"front\">{html.escape(front)}</div></details>\n{body_html}\n</body></html>\n")


def write_html(facts: dict, output: str | Path) -> Path:
    from registry.outputs import atomic_output

    output = Path(output)
    page = render_html(facts)
    with atomic_output(output) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return output
