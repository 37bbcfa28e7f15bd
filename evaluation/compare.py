"""Did version B train a better model than version A? Find a model trained on each, judge their answers.

    results = compare_versions("alpaca@1", "alpaca@2", JudgeConfig("gpt-4o-mini"), "cmp/")

Both sides need a fine-tuned model recorded on the version and an answers file recorded for that
model; the two answer files must answer the same evaluation set. When anything is missing, the
error says exactly what and how to produce it; nothing is trained or answered here.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.judge import JudgeConfig
from evaluation.lineage import record_evaluation
from evaluation.pairwise import judge_answer_files
from records.errors import BAD_INPUT, SelfInstructError
from records.files import write_json_atomic
from registry.uses import Use


class MissingForComparison(SelfInstructError):
    """A side of the comparison lacks a trained model, recorded answers, or a set in common: exit 2."""

    exit_status = BAD_INPUT


def _answered(ref: str, root, model: str | None = None) -> tuple[str, list[tuple[dict, Use]]]:
    """(resolved ref, [(model, answers use)] newest first) for one version; only the model whose
    output folder is `model` when one is named."""
    import registry
    from registry.evaluations import trained_models

    version = registry.resolve(ref, root=root)
    models = trained_models(version, root=root)
    if not models:
        raise MissingForComparison(
            f"no model trained on {version.ref} is recorded: fine-tune one with "
            f"`selfinstruct finetune run --dataset {version.ref} ...` (the run records itself in the registry)")
    if model is not None:
        wanted = str(Path(model).resolve())
        chosen = [m for m in models if m["output"] and str(Path(m["output"]).resolve()) == wanted]
        if not chosen:
            raise MissingForComparison(f"{model} is not a model recorded as trained on {version.ref}; recorded: "
                                       + ", ".join(str(m["output"]) for m in models))
        models = chosen
    found = [(m, a) for m in reversed(models) for a in map(Use.from_dict, reversed(m["answers"]))
             if a.answers and Path(a.answers).exists()]
    if not found:
        folders = ", ".join(m["output"] for m in models)
        raise MissingForComparison(
            f"{len(models)} model(s) trained on {version.ref} ({folders}) but none has a recorded answers file "
            "that still exists: answer a set with `selfinstruct eval answer --model DIR --set SET -o answers.json` "
            "(it records the answers), or record answers made elsewhere with "
            "`selfinstruct eval record-answers DIR answers.json`")
    return version.ref, found


def _sets(found: list[tuple[dict, Use]]) -> str:
    return ", ".join(sorted({f"{a.set_name or 'unnamed'} ({str(a.set_sha256)[:12]})" for _, a in found}))


def find_pair(ref_a: str, ref_b: str, *, root=None, model_a: str | None = None, model_b: str | None = None) -> dict:
    """The newest models on each side (or the ones named) with answers to a common set, and those
    answer files."""
    (va, found_a), (vb, found_b) = _answered(ref_a, root, model_a), _answered(ref_b, root, model_b)
    for model_a, answers_a in found_a:
        for model_b, answers_b in found_b:
            if answers_a.set_sha256 == answers_b.set_sha256:
                return {"versions": {"a": va, "b": vb},
                        "models": {"a": model_a["output"], "b": model_b["output"]},
                        "answers": {"a": answers_a.answers, "b": answers_b.answers},
                        "set_name": answers_a.set_name or answers_b.set_name}
    raise MissingForComparison(
        f"no evaluation set was answered on both sides: models trained on {va} answered {_sets(found_a)}; "
        f"models trained on {vb} answered {_sets(found_b)}. Answer the same set with the other side's model")


def compare_versions(ref_a: str, ref_b: str, cfg: JudgeConfig, out_dir, *, root=None, api_key=None,
                     backend=None, model_a: str | None = None, model_b: str | None = None) -> dict:
    """Judge the answers of a model trained on `ref_a` (A) against one trained on `ref_b` (B), and
    record the result against both training runs. Each side's newest model with answers to a set
    both answered, unless `model_a` / `model_b` name the model folder to use."""
    pair = find_pair(ref_a, ref_b, root=root, model_a=model_a, model_b=model_b)
    results = judge_answer_files(pair["answers"]["a"], pair["answers"]["b"], cfg, out_dir, api_key=api_key,
                                 backend=backend)
    results_path = Path(out_dir) / "results.json"
    results.update(versions=pair["versions"], models=pair["models"], set_name=pair["set_name"])
    results["recorded_in"] = record_evaluation(results, model_dirs=pair["models"], results_path=results_path,
                                               set_name=pair["set_name"], root=root)
    write_json_atomic(results_path, results)
    return results
