"""Datasheet figures as inline SVG, written out directly (bars, axes, labels).

Each figure is drawn from counts the facts already hold (registry/row_facts.py, novelty, a layer's
histogram), so a page never reads rows or loads a plotting library to show them: a datasheet
renders in milliseconds. Text is escaped; labels stay text, so they are searchable and small.
"""

from __future__ import annotations

import math
from html import escape

BLUE, CYAN, GREEN, OLIVE, GREY, PURPLE = "#4477aa", "#66ccee", "#228833", "#ccbb44", "#dddddd", "#aa3377"
FONT = 'font-family="DejaVu Sans,Arial,sans-serif"'


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, *, size: int = 10, anchor: str = "middle", rotate: float | None = None,
          weight: str = "") -> str:
    turn = f' transform="rotate({_num(rotate)} {_num(x)} {_num(y)})"' if rotate else ""
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}"{bold}{turn}>'
            f"{escape(str(text))}</text>")


def _rect(x: float, y: float, w: float, h: float, colour: str, title: str = "") -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0.5))}" height="{_num(max(h, 0))}" '
            f'fill="{colour}">{tip}</rect>')


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = "#333") -> str:
    return f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{colour}" stroke-width="1"/>'


def _svg(width: int, height: int, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT}>' + "".join(parts) + "</svg>")


def nice_ticks(top: float, most: int = 5) -> list[float]:
    """Whole tick values from 0 to at least `top` (1, 2 or 5 times a power of ten apart): every
    axis here counts instances."""
    if top <= 0:
        return [0, 1]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = max(1, next(m * power for m in (1, 2, 5, 10) if m * power >= raw))
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _label(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else _num(v)


def _bar_panel(x0: float, y0: float, w: float, h: float, counts: list[float], *, colour: str, title: str,
               xlabel: str, ylabel: str, xticks: list[tuple[float, str]], tips: list[str], rotate_ticks=False) -> list[str]:
    """Vertical bars in the box (x0, y0, w, h), with a y axis, x ticks at fractions of the width
    (`xticks`: (fraction, label)), a title above and axis labels."""
    left, bottom, top = 58, 34 if not rotate_ticks else 58, 22
    px, py, pw, ph = x0 + left, y0 + top, w - left - 8, h - top - bottom
    ticks = nice_ticks(max(counts, default=0))
    scale = ph / ticks[-1]
    parts = [_text(x0 + w / 2, y0 + 13, title, size=11)]
    for t in ticks:
        y = py + ph - t * scale
        parts += [_line(px - 4, y, px, y), _text(px - 6, y + 3.5, _label(t), size=9, anchor="end")]
    step = pw / max(1, len(counts))
    for i, c in enumerate(counts):
        parts.append(_rect(px + i * step + 0.5, py + ph - c * scale, step - 1, c * scale, colour, tips[i]))
    for fraction, text in xticks:
        x = px + fraction * pw
        parts.append(_line(x, py + ph, x, py + ph + 4))
        parts.append(_text(x, py + ph + 14, text, size=9, anchor="end" if rotate_ticks else "middle",
                           rotate=-30 if rotate_ticks else None))
    parts += [_line(px, py, px, py + ph), _line(px, py + ph, px + pw, py + ph),
              _text(px + pw / 2, y0 + h - 4, xlabel), _text(x0 + 11, py + ph / 2, ylabel, rotate=-90)]
    return parts


def length_histograms(length_bins: dict[str, dict]) -> str:
    """One histogram of words per field, clipped at the 99th percentile so the bulk stays readable
    (`registry.row_facts.length_bins`: bins of `step` words from 0, the last holding all above `cap`)."""
    width, height, parts = 330, 260, []
    for k, (field, bins) in enumerate(length_bins.items()):
        cap, step, counts = bins["cap"], bins["step"], bins["counts"]
        n = max(1, len(counts))
        marks = sorted({0, *range(0, n, max(1, n // 4))})
        xticks = [((i + 0.5) / n, f"{i * step}") for i in marks]
        tips = [f"{i * step}" + (f"-{i * step + step - 1}" if step > 1 else "") + f" words: {c:,}"
                for i, c in enumerate(counts)]
        parts += _bar_panel(k * width, 0, width, height, counts, colour=BLUE, xticks=xticks, tips=tips,
                            title=f"{field} (words, clipped at p99={cap})", xlabel="words", ylabel="instances")
    return _svg(width * max(1, len(length_bins)), height, parts)


def verb_object_chart(verbs: dict, top: int = 15) -> str:
    """Stacked bars: each top leading verb split into its top objects (Alpaca's verb-noun figure as bars)."""
    entries = verbs["top_verbs"][:top]
    row, left, right, head, foot = 22, 90, 20, 30, 44
    width, plot_w = 860, 860 - 90 - 20
    height = head + row * max(4, len(entries)) + foot
    ticks = nice_ticks(max((e["count"] for e in entries), default=0))
    scale = plot_w / ticks[-1]
    palette = [BLUE, CYAN, GREEN, OLIVE]
    parts = [_text(width / 2, 18, "Leading verbs and their objects", size=12)]
    for y_index, entry in enumerate(entries):
        y = head + y_index * row + 3
        x = left
        for k, obj in enumerate(entry["objects"]):
            w = obj["count"] * scale
            parts.append(_rect(x, y, w, row - 6, palette[k % 4], f"{entry['verb']} {obj['object']}: {obj['count']:,}"))
            if obj["count"] > entry["count"] * 0.12 and w > 5.5 * len(obj["object"]):  # the label fits
                parts.append(_text(x + w / 2, y + row / 2, obj["object"], size=8))
            x += w
        rest = entry["count"] - sum(o["count"] for o in entry["objects"])
        parts.append(_rect(x, y, rest * scale, row - 6, GREY, f"{entry['verb']}, other objects or none: {rest:,}"))
        parts.append(_text(left - 6, y + row / 2, entry["verb"], anchor="end"))
    base = head + row * max(4, len(entries))
    for t in ticks:
        x = left + t * scale
        parts += [_line(x, base, x, base + 4), _text(x, base + 15, _label(t), size=9)]
    parts += [_line(left, head, left, base), _line(left, base, left + plot_w, base),
              _text(left + plot_w / 2, height - 6, "instructions (coloured: top objects; grey: other objects or none)")]
    return _svg(width, height, parts)


def novelty_histogram(novelty: dict) -> str:
    """Instructions per ROUGE-L band to the most similar seed (Self-Instruct, Wang et al. 2023, fig. 3)."""
    bins, counts = novelty["bins"], novelty["counts"]
    sampled = f" (sample of {novelty['rows_used']:,})" if novelty["sampled"] else ""
    tips = [f"ROUGE-L {bins[i]:.1f}-{bins[i + 1]:.1f}: {c:,}" for i, c in enumerate(counts)]
    xticks = [(i / 10, f"{i / 10:.1f}") for i in range(0, 11, 2)]
    parts = _bar_panel(0, 0, 560, 260, counts, colour=PURPLE, xticks=xticks, tips=tips,
                       title=f"Novelty against {novelty['seeds']} seeds{sampled}",
                       xlabel="ROUGE-L F to the most similar seed instruction", ylabel="instructions")
    return _svg(560, 260, parts)


def layer_histogram(layer: dict) -> str:
    """A score layer's histogram (registry/layer_facts.py's bars), with its missing scores named."""
    bars = layer["histogram"]
    n = max(1, len(bars))
    ranges = any(b["low"] != b["high"] for b in bars)
    xticks = [((i + 0.5) / n, b["label"]) for i, b in enumerate(bars)]
    tips = [f"{b['label']}: {b['count']:,}" for b in bars]
    height = 280 if ranges else 250
    parts = _bar_panel(0, 0, 560, height, [b["count"] for b in bars], colour=GREEN, xticks=xticks, tips=tips,
                       title=f"{layer['name']}: {layer['scored']:,} scored, {layer['missing']:,} missing",
                       xlabel="score", ylabel="records", rotate_ticks=ranges)
    return _svg(560, height, parts)
