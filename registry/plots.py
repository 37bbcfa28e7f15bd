"""Datasheet figures as inline SVG (matplotlib's object API, no pyplot state, no display needed)."""

from __future__ import annotations

import io


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.rcParams["svg.fonttype"] = "none"  # keep labels as text: smaller, searchable
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def length_histograms(length_values: dict[str, list[int]]) -> str:
    """One histogram of words per field, clipped at the 99th percentile so the bulk stays readable."""
    fig = _figure(10, 2.8)
    axes = fig.subplots(1, len(length_values))
    for ax, (field, values) in zip(axes, length_values.items()):
        ordered = sorted(values)
        cap = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 1
        step = max(1, -(-(cap + 1) // 40))  # integer-aligned bins: word counts are whole numbers
        edges = [x - 0.5 for x in range(0, cap + step + 1, step)]
        ax.hist([min(v, cap) for v in values], bins=edges, color="#4477aa")
        ax.set_title(f"{field} (words, clipped at p99={cap})", fontsize=9)
        ax.set_xlabel("words")
        ax.set_ylabel("instances")
    fig.tight_layout()
    return _svg(fig)


def verb_object_chart(verbs: dict, top: int = 15) -> str:
    """Stacked bars: each top leading verb split into its top objects (Alpaca's verb-noun figure as bars)."""
    entries = verbs["top_verbs"][:top][::-1]
    fig = _figure(9, 0.35 * max(4, len(entries)) + 1)
    ax = fig.subplots()
    palette = ["#4477aa", "#66ccee", "#228833", "#ccbb44"]
    for y, entry in enumerate(entries):
        left = 0
        for k, obj in enumerate(entry["objects"]):
            ax.barh(y, obj["count"], left=left, color=palette[k % 4])
            if obj["count"] > entry["count"] * 0.12:
                ax.text(left + obj["count"] / 2, y, obj["object"], ha="center", va="center", fontsize=7)
            left += obj["count"]
        ax.barh(y, entry["count"] - left, left=left, color="#dddddd")
    ax.set_yticks(range(len(entries)), [e["verb"] for e in entries])
    ax.set_xlabel("instructions (coloured: top objects; grey: other objects or none)")
    ax.set_title("Leading verbs and their objects")
    fig.tight_layout()
    return _svg(fig)


def novelty_histogram(novelty: dict) -> str:
    """Instructions per ROUGE-L band to the most similar seed (Self-Instruct, Wang et al. 2023, fig. 3)."""
    fig = _figure(6, 2.8)
    ax = fig.subplots()
    bins = novelty["bins"]
    ax.bar([(bins[i] + bins[i + 1]) / 2 for i in range(10)], novelty["counts"], width=0.09, color="#aa3377")
    ax.set_xlabel("ROUGE-L F to the most similar seed instruction")
    ax.set_ylabel("instructions")
    sampled = f" (sample of {novelty['rows_used']:,})" if novelty["sampled"] else ""
    ax.set_title(f"Novelty against {novelty['seeds']} seeds{sampled}")
    fig.tight_layout()
    return _svg(fig)


def layer_histogram(layer: dict) -> str:
    """A score layer's histogram (registry/layer_facts.py's bars), with its missing scores named."""
    bars = layer["histogram"]
    fig = _figure(6, 2.6)
    ax = fig.subplots()
    ax.bar(range(len(bars)), [b["count"] for b in bars], color="#228833")
    ax.set_xticks(range(len(bars)), [b["label"] for b in bars], fontsize=8,
                  **({"rotation": 30, "ha": "right"} if any(b["low"] != b["high"] for b in bars) else {}))
    ax.yaxis.get_major_locator().set_params(integer=True)  # records are counted
    ax.set_xlabel("score")
    ax.set_ylabel("records")
    ax.set_title(f"{layer['name']}: {layer['scored']:,} scored, {layer['missing']:,} missing", fontsize=10)
    fig.tight_layout()
    return _svg(fig)
