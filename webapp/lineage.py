"""A version's lineage as a laid-out graph: ancestors, the operation that made each, children, models.

Columns by distance from the version (ancestors left, children and fine-tuned models right); the
template draws the boxes and edges as inline SVG.
"""

from __future__ import annotations

from pathlib import Path

from registry.errors import RegistryError
from registry.evaluations import lc_label, percent_interval
from registry.versions import readable_versions, resolve
from registry.uses import Use, read_uses

BOX_W, BOX_H, GAP_X, GAP_Y = 260, 58, 60, 18


def operation_label(version) -> str:
    """What made a version, in a few words: `import alpaca_data.json`, `generate gpt-4o-mini`, ..."""
    lin = version.lineage
    op = lin.operation or "commit"
    if op == "import" and isinstance(lin.source, dict):
        return f"import {Path(str(lin.source.get('path', ''))).name}"
    if op == "generate" and lin.generator:
        return f"generate {lin.generator.model or ''}".strip()
    return str(op)


def use_label(use: Use) -> tuple[str, str]:
    if use.kind == "finetune" and use.output:
        loss = use.final_loss
        return (f"model: {Path(str(use.output)).name}",
                f"from {Path(str(use.model or '?')).name}" + (f", loss {loss:.3g}" if isinstance(loss, float) else ""))
    model = use.model or use.kind or "use"
    scores = {k: v for k, v in use.to_dict().items()
              if k in ("win_rate", "lc_win_rate", "score", "final_loss") and v is not None}
    detail = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items())
    return f"{use.kind or 'use'}: {Path(str(model)).name}", detail or Path(str(use.output or "")).name


def graph(version, store) -> dict:
    """{"nodes": [...], "edges": [...], "width", "height"}; each node has x, y, title, detail, kind, ref."""
    depth: dict[str, int] = {version.ref: 0}
    versions = {version.ref: version}
    edges = []
    todo = [version]
    while todo:  # ancestors, breadth first; a missing parent becomes a bare node
        v = todo.pop(0)
        for p in v.parents:
            edges.append((p, v.ref))
            if p in depth:
                continue
            depth[p] = depth[v.ref] - 1
            try:
                versions[p] = resolve(p, root=store)
                todo.append(versions[p])
            except RegistryError:
                versions[p] = None
    for v in readable_versions(store):
        if version.ref in v.parents and v.ref not in depth:
            depth[v.ref], versions[v.ref] = 1, v
            edges.append((version.ref, v.ref))
    nodes = []
    for ref, d in depth.items():
        v = versions[ref]
        nodes.append({"id": ref, "ref": ref if v else None, "col": d, "title": f"{ref}" + (f" · {v.rows:,} rows" if v else " (missing)"),
                      "detail": operation_label(v) if v else "", "kind": "self" if ref == version.ref else "version"})
    use_col = 1  # below the later versions, so no edge runs through another box
    uses = read_uses(version, root=store)
    models = {str(u.output) for u in uses if u.kind == "finetune"}
    for k, use in enumerate(uses):
        if use.kind in ("answers", "evaluation") and str(use.model_output) in models:
            continue  # shown with the model they belong to
        title, detail = use_label(use)
        nodes.append({"id": f"use{k}", "ref": None, "col": use_col, "title": title, "detail": detail, "kind": "use"})
        edges.append((version.ref, f"use{k}"))
        if use.kind == "finetune":
            for j, e in enumerate(u for u in uses if u.kind == "evaluation" and str(u.model_output) == str(use.output)):
                nodes.append({"id": f"use{k}e{j}", "ref": None, "col": use_col + 1, "kind": "use",
                              "title": f"vs {e.against or '?'}",
                              "detail": score_label(e)})
                edges.append((f"use{k}", f"use{k}e{j}"))
    return layout(nodes, edges)


def score_label(evaluation: Use) -> str:
    """`win 3.6% [2.0, 5.4], LC 1.2%`: an evaluation's win rate with its 95% interval, and the LC rate
    without its interval, which would not fit the box; the models table below the graph shows it."""
    if evaluation.win_rate is None:
        return "no score"
    interval = percent_interval(evaluation.ci_low, evaluation.ci_high)
    return f"win {100 * evaluation.win_rate:.1f}%{interval}" + lc_label(evaluation, interval=False)


def layout(nodes: list[dict], edges: list[tuple[str, str]]) -> dict:
    cols = sorted({n["col"] for n in nodes})
    rows_in: dict[int, int] = {}
    for n in nodes:
        n["x"] = 10 + cols.index(n["col"]) * (BOX_W + GAP_X)
        n["y"] = 10 + rows_in.get(n["col"], 0) * (BOX_H + GAP_Y)
        rows_in[n["col"]] = rows_in.get(n["col"], 0) + 1
    at = {n["id"]: n for n in nodes}
    lines = [{"x1": at[a]["x"] + BOX_W, "y1": at[a]["y"] + BOX_H / 2, "x2": at[b]["x"], "y2": at[b]["y"] + BOX_H / 2}
             for a, b in edges if a in at and b in at]
    return {"nodes": nodes, "edges": lines, "box_w": BOX_W, "box_h": BOX_H,
            "width": 20 + len(cols) * (BOX_W + GAP_X) - GAP_X,
            "height": 20 + max(rows_in.values(), default=1) * (BOX_H + GAP_Y) - GAP_Y}
