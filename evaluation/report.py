"""Results of a comparison as plain dicts, and their rich tables for the terminal."""

from __future__ import annotations

from evaluation.stats import PairwiseResult


def results_record(result: PairwiseResult, *, model_a: str, model_b: str, **extra) -> dict:
    """The JSON written to results.json and printed by --json: who was compared, the statistics, extras."""
    return {"model_a": model_a, "model_b": model_b, **result.to_dict(), **extra}


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _len(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def summary_rows(r: dict) -> list[list[str]]:
    level = r.get("level", 0.95)
    rows = [
        ["win rate of A (ties half)", _pct(r["win_rate"])],
        [f"{level:.0%} interval (bootstrap over {r['n']} items)", f"{_pct(r['ci_low'])} - {_pct(r['ci_high'])}"],
        ["wins / losses / ties of A", f"{r['wins']:g} / {r['losses']:g} / {r['ties']:g}"],
        ["sign test p (ties dropped)", f"{r['p_value']:.3g}"],
        ["length-controlled win rate", _pct(r["lc_win_rate"])],
        ["mean length A / B (chars)", f"{_len(r['mean_len_a'])} / {_len(r['mean_len_b'])}"],
    ]
    for key, label in (("missing", "items without a preference (skipped)"),
                       ("position_consistency", "judge agrees with itself across orders"),
                       ("unparseable", "verdicts that could not be parsed")):
        if key in r:
            value = r[key]
            rows.append([label, f"{value:.1%}" if isinstance(value, float) else str(value)])
    return rows


def print_results(r: dict, console=None) -> None:
    """A headline table (A against B) and, when there are categories, one row per category."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    head = Table(title=f"A = {r['model_a']}  vs  B = {r['model_b']}", show_header=False)
    head.add_column("")
    head.add_column("", justify="right")
    for label, value in summary_rows(r):
        head.add_row(label, value)
    console.print(head)
    if r.get("per_category"):
        cats = Table(title="per category")
        for c in ("category", "n", "win rate", "interval", "W / L / T", "LC"):
            cats.add_column(c, justify="left" if c == "category" else "right")
        for name, c in r["per_category"].items():
            cats.add_row(name, str(c["n"]), _pct(c["win_rate"]), f"{_pct(c['ci_low'])} - {_pct(c['ci_high'])}",
                         f"{c['wins']:g} / {c['losses']:g} / {c['ties']:g}", _pct(c["lc_win_rate"]))
        console.print(cats)
