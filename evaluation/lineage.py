"""Tie evaluations to dataset versions through the fine-tuned model's training run.

A model folder written by `selfinstruct finetune run` names its training data in
`training_record.json` (finetune/training_record.py; older folders in their model card's front
matter), and the run is recorded as a "finetune" use of that version. Answers and evaluations
of the model are recorded as further uses of the same version (registry/uses.py's `Use`),
naming the model folder, so `registry show` and the datasheet can list them.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.outputs import read_model_outputs, set_sha256
from finetune.training_record import TRAINING_RECORD, read_training_record, record_file
from records.errors import InputError
from registry.uses import Use


def training_run(model_dir: str | Path) -> dict:
    """{"dataset": "name@N", "content_hash", "from_registry", "output"} of a fine-tuned model trained
    on a registry version; an InputError naming the file otherwise."""
    record, path = read_training_record(model_dir), record_file(model_dir)
    if not record.from_registry:
        raise InputError(path, f"the model was trained on a file ({record.dataset}), not a registry version, so "
                         "there is no version to record against",
                         field="from_registry" if path.name == TRAINING_RECORD else "training_data.from_registry")
    return {"dataset": record.dataset, "content_hash": record.content_hash, "from_registry": True,
            "output": str(Path(model_dir).resolve())}


def record_answers(model_dir: str | Path, answers_path: str | Path, *, set_name: str | None = None,
                   root=None) -> dict:
    """Record an answers file of a fine-tuned model as a use of the version it was trained on."""
    import registry

    run = training_run(model_dir)
    outputs = read_model_outputs(answers_path)
    use = Use(kind="answers", model_output=run["output"], answers=str(Path(answers_path).resolve()),
              generator=outputs.generator, set_sha256=set_sha256(outputs.rows, any_order=True), set_name=set_name,
              items=len(outputs.rows))
    registry.record_use(run["dataset"], use, root=root)
    return {**use.to_dict(), "version": run["dataset"]}


def evaluation_use(results: dict, side: str, *, model_output: str, results_path: str | Path,
                   set_sha256: str, set_name: str | None) -> Use:
    """The "evaluation" use entry for one side ("a" or "b") of a pairwise result, from that side's view."""
    flip = side == "b"

    def view(x):
        return None if x is None else (1 - x if flip else x)

    return Use(
        kind="evaluation", model_output=model_output, set_sha256=set_sha256, set_name=set_name,
        answers=results["answers"][side], against=results["model_a" if flip else "model_b"],
        against_answers=results["answers"]["a" if flip else "b"],
        judge=results["judge"], judge_prompt_sha256=results["prompt_sha256"],
        n=results["n"], win_rate=view(results["win_rate"]),
        ci_low=view(results["ci_high"] if flip else results["ci_low"]),
        ci_high=view(results["ci_low"] if flip else results["ci_high"]),
        lc_win_rate=view(results.get("lc_win_rate")),
        lc_ci_low=view(results.get("lc_ci_high") if flip else results.get("lc_ci_low")),
        lc_ci_high=view(results.get("lc_ci_low") if flip else results.get("lc_ci_high")),
        p_value=results["p_value"],
        position_consistency=results.get("position_consistency"),
        results=str(Path(results_path).resolve()),
    )


def record_evaluation(results: dict, *, model_dirs: dict[str, str | Path], results_path: str | Path,
                      set_name: str | None = None, root=None) -> list[str]:
    """Record `results` against the training run of each fine-tuned model given ({"a": dir, "b": dir});
    returns the versions written to."""
    import registry

    if not results.get("n"):
        return []
    key = set_sha256(read_model_outputs(results["answers"]["a"]).rows, any_order=True)
    written = []
    for side, folder in model_dirs.items():
        if folder is None:
            continue
        run = training_run(folder)
        registry.record_use(run["dataset"], evaluation_use(results, side, model_output=run["output"],
                                                          results_path=results_path, set_sha256=key,
                                                          set_name=set_name), root=root)
        written.append(run["dataset"])
    return written
