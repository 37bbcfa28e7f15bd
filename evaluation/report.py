"""Results of a comparison as plain dicts, and their rich tables for the terminal."""

from __future__ import annotations

from evaluation.stats import PairwiseResult


def results_record(result: PairwiseResult, *, model_a: str, model_b: str, **extra) -> dict:
    """The JSON written to results.json and printed by --json: who was compared, the statistics, extras."""
    return {"model_a": model_a, "model_b": model_b, **result.to_dict(), **extra}


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def _interval(r: dict, low: str, high: str, *, compact: bool = False) -> str:
    """`a% - b%`, or `a-b%` to one decimal when compact (the per-category table fits 80 columns); n/a when
    the result has no such interval (no lengths, or written before the interval existed)."""
    if r.get(low) is None or r.get(high) is None:
        return "n/a"
    if compact:
        return f"{100 * r[low]:.1f}-{100 * r[high]:.1f}%"
    return f"{_pct(r[low])} - {_pct(r[high])}"


def _wlt(r: dict, sep: str = " / ") -> str:
    """`W / L / T`, then `, split W / L` when items were won or lost in one order and tied in the other."""
    text = sep.join(f"{r[k]:g}" for k in ("wins", "losses", "ties"))
    split_wins, split_losses = r.get("split_wins") or 0, r.get("split_losses") or 0
    return text + (f", split {split_wins:g}{sep}{split_losses:g}" if split_wins or split_losses else "")


def lc_name(r: dict) -> str:
    """What the length-controlled rate is: AlpacaEval 2's model with the instructions' difficulty, or our
    fit on length alone, which is not the leaderboard's LC figure (results written before `lc_model`
    were fitted on length alone)."""
    if r.get("lc_model") == "length+difficulty":
        return "with instruction difficulty"
    return "our fit (no difficulty)"


def _len(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def summary_rows(r: dict) -> list[list[str]]:
    level = r.get("level", 0.95)
    rows = [
        ["win rate of A (ties half)", _pct(r["win_rate"])],
        [f"{level:.0%} interval (bootstrap over {r['n']} items)", _interval(r, "ci_low", "ci_high")],
        ["wins / losses / ties of A", _wlt(r)],
        ["sign test p (ties and split items dropped)", f"{r['p_value']:.3g}"],
        [f"length-controlled, {lc_name(r)}", _pct(r["lc_win_rate"])],
        [f"{level:.0%} interval, refitted on the same resamples", _interval(r, "lc_ci_low", "lc_ci_high")],
        ["mean length A / B (chars)", f"{_len(r['mean_len_a'])} / {_len(r['mean_len_b'])}"],
    ]
    if "missing" in r:
        rows.append(["items without a preference (skipped)", str(r["missing"])])
    if "items_paired" in r:
        rows.append(["items judged in both orders / paired", f"{r.get('items_scored', r['n'])} / {r['items_paired']}"])
        unmatched = r.get("unmatched") or {}
        if any(unmatched.values()):
            rows.append(["answers without a partner (only A / only B)",
                         f"{unmatched.get('only_a', 0)} / {unmatched.get('only_b', 0)}"])
        consistency = r.get("position_consistency")
        rows.append(["judge agrees with itself across orders",
                     "n/a" if consistency is None else f"{consistency:.1%} of {r['position_consistency_over']}"])
        longer = r.get("longer_preferred")
        rows.append(["judge picks the longer answer",
                     "n/a" if longer is None else f"{longer:.1%} of {r['longer_preferred_over']} decided verdicts"])
        rows.append(["verdicts unparseable / truncated / missing",
                     f"{r['unparseable']} / {r['truncated']} / {r['missing_replies']}"])
        u = r.get("usage") or {}
        rows.append(["judge tokens in + out, dollars",
                     f"{u.get('prompt_tokens', 0):,} + {u.get('completion_tokens', 0):,}, ${u.get('dollars', 0):.4f}"])
    return rows


def print_results(r: dict, console=None) -> None:
    """A headline table (A against B) and, when there are categories, one row per category."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if not r.get("n"):
        console.print(f"no item of {r['model_a']} vs {r['model_b']} has a verdict in both orders yet")
        return
    head = Table(title=f"A = {r['model_a']}  vs  B = {r['model_b']}", show_header=False)
    head.add_column("")
    head.add_column("", justify="right")
    for label, value in summary_rows(r):
        head.add_row(label, value)
    console.print(head)
    if r.get("per_category"):
        cats = Table(title="per category")
        for c in ("category", "n", "win rate", "interval", "W/L/T", "LC", "LC interval"):
            cats.add_column(c, justify="left" if c == "category" else "right")
        for name, c in r["per_category"].items():
            cats.add_row(name, str(c["n"]), _pct(c["win_rate"]), _interval(c, "ci_low", "ci_high", compact=True),
                         _wlt(c, "/"), _pct(c["lc_win_rate"]),
                         _interval(c, "lc_ci_low", "lc_ci_high", compact=True))
        console.print(cats)
