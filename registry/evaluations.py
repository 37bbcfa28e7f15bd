"""Models trained on a version and how they scored: read from the version's "used by" entries.

Fine-tune runs record a use of kind "finetune" (its `output` is the model folder); evaluations
record kind "evaluation" and answer files kind "answers", both naming that folder in
`model_output` (registry/uses.py's `Use`). The registry only stores and lists them; it judges nothing.
"""

from __future__ import annotations

from registry.uses import Use, read_uses


def trained_models(version, *, root=None) -> list[dict]:
    """Each model fine-tuned on `version` (oldest first) with its recorded answers and evaluations
    (in their stored form, as `registry show --json` prints them)."""
    by_kind: dict[str, list[Use]] = {}
    for use in read_uses(version, root=root):
        by_kind.setdefault(use.kind or "", []).append(use)

    def of(kind: str, folder) -> list[dict]:
        return [u.to_dict() for u in by_kind.get(kind, []) if u.model_output == folder]

    return [{"output": run.output, "base_model": run.model, "recipe": run.recipe, "finished": run.finished,
             "status": run.status, "error": run.error, "answers": of("answers", run.output),
             "evaluations": of("evaluation", run.output)}
            for run in by_kind.get("finetune", [])]


def percent_interval(low, high) -> str:
    """` [2.0, 5.4]` for an interval in [0, 1]; empty when either end is missing (older entries have none)."""
    return "" if low is None or high is None else f" [{100 * low:.1f}, {100 * high:.1f}]"


def lc_label(evaluation: Use, *, interval: bool = True) -> str:
    """`, LC 19.8% [12.5, 28.6]` for an evaluation with a length-controlled rate, else empty; entries
    recorded before the LC interval existed show the rate alone."""
    if evaluation.lc_win_rate is None:
        return ""
    text = f", LC {100 * evaluation.lc_win_rate:.1f}%"
    return text + percent_interval(evaluation.lc_ci_low, evaluation.lc_ci_high) if interval else text


def evaluation_rows(models: list[dict]) -> list[list[str]]:
    """One row per evaluation (or per model without one): model, set, score, against, judge."""
    rows = []
    for m in models:
        label = m["output"] or "(output folder not recorded)"
        if m.get("base_model"):
            label += f" ({m['base_model']})"
        if m.get("status") in ("running", "failed", "interrupted"):
            label += f" [training {m['status']}]"  # recorded at start: no finish was recorded yet, or the run died
        if not m["evaluations"]:
            rows.append([label, "", "not evaluated", "", ""])
        for e in map(Use.from_dict, m["evaluations"]):
            score = f"{100 * e.win_rate:.1f}%" + percent_interval(e.ci_low, e.ci_high) + lc_label(e)
            rows.append([label, f"{e.set_name or ''} ({'?' if e.n is None else e.n} items)", score,
                         str(e.against or ""), f"{e.judge or ''} (prompt {str(e.judge_prompt_sha256 or '')[:12]})"])
    return rows


EVALUATION_COLUMNS = ["model", "evaluation set", "win rate, LC rate [95% intervals]", "against", "judged by"]
