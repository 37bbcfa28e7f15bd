"""The append-only "used by" log of a version (fine-tune runs and other consumers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from records.contract import ABSENT, Contract
from records.timestamps import iso_utc
from registry.manifest import Version
from registry.versions import as_store, dataset_dir, dumps, resolve


@dataclass
class Use(Contract):
    """One "used by" entry: a fine-tune run (kind "finetune"), an answers file of the model it made
    ("answers") or a pairwise evaluation of that model ("evaluation"). Written by finetune and
    evaluation through `record_use`, read here; fields a kind does not use stay unset (not stored)."""

    recorded: str | None = ABSENT
    """When the entry was written (ISO UTC); set by `record_use`."""
    version: str | None = ABSENT
    """name@N; set by `record_use`."""
    hash: str | None = ABSENT
    """The version's content hash; set by `record_use`."""
    kind: str | None = ABSENT
    run_id: str | None = ABSENT
    """Entries sharing a run_id are one use: later ones update it (a run started, then finished)."""
    status: str | None = ABSENT
    """running, finished, failed or interrupted (fine-tune runs)."""
    seq: int | None = ABSENT
    """Orders a run's entries written within the same second."""
    output: str | None = ABSENT
    """The fine-tuned model's folder."""
    model: str | None = ABSENT
    """The base model a fine-tune run started from."""
    recipe: str | None = ABSENT
    started: str | None = ABSENT
    finished: str | None = ABSENT
    steps: int | None = ABSENT
    final_loss: float | None = ABSENT
    ended: str | None = ABSENT
    error: str | None = ABSENT
    """The first line of the error a run died of."""
    model_output: str | None = ABSENT
    """Answers and evaluations: the fine-tuned model's folder they belong to."""
    answers: str | None = ABSENT
    generator: str | None = ABSENT
    set_sha256: str | None = ABSENT
    """The evaluation set's identity, in any order (evaluation/outputs.py:set_sha256)."""
    set_name: str | None = ABSENT
    items: int | None = ABSENT
    against: str | None = ABSENT
    against_answers: str | None = ABSENT
    judge: str | None = ABSENT
    judge_prompt_sha256: str | None = ABSENT
    n: int | None = ABSENT
    win_rate: float | None = ABSENT
    ci_low: float | None = ABSENT
    ci_high: float | None = ABSENT
    lc_win_rate: float | None = ABSENT
    lc_ci_low: float | None = ABSENT
    lc_ci_high: float | None = ABSENT
    p_value: float | None = ABSENT
    position_consistency: float | None = ABSENT
    results: str | None = ABSENT


def record_use(ref, use: Use | dict, *, root=None) -> None:
    """Append `use` (e.g. Use(kind="finetune", output=..., model=...)) to the version's side log.

    `ref` is a reference or a resolved Version (which stays writable after `gc` retires it, so a
    run that started on it can still record its end). Each entry is its own file, so concurrent
    writers never clash and the manifest stays immutable. Entries sharing a `run_id` are one use
    whose later entries (by `recorded`, then `seq`) update it: a run recorded as running at its
    start, finished at its end.
    """
    if not isinstance(use, (Use, dict)):
        raise TypeError("use must be a Use or a dict")
    store = as_store(root)
    version = ref if isinstance(ref, Version) else resolve(ref, root=store)
    fields = use.to_dict() if isinstance(use, Use) else use
    entry = Use.from_dict({"recorded": iso_utc(), "version": version.ref, "hash": version.hash, **fields})
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    stamp = entry.recorded.replace(":", "").replace("-", "").replace("+", "Z")
    store.put_if_absent(f"{folder}/{stamp}-{uuid.uuid4().hex[:12]}.json", dumps(entry.to_dict()))


def read_uses(version, *, root=None) -> list[Use]:
    """Every recorded use of `version`, typed, oldest first."""
    return [Use.from_dict(u) for u in list_uses(version, root=root)]


def list_uses(version, *, root=None) -> list[dict]:
    """Every recorded use of `version` in its stored form, oldest first; entries of one `run_id` merged in order."""
    store = as_store(root)
    folder = dataset_dir(store, version.name, "uses", f"{version.number:08d}")
    uses: list[dict] = []
    runs: dict[str, dict] = {}
    entries = [store.read_json(f"{folder}/{n}") for n in store.listdir(folder) if n.endswith(".json")]
    # one-second stamps: `seq` orders a run's entries written within the same second
    for entry in sorted(entries, key=lambda e: (str(e.get("recorded", "")), e.get("seq", 0))):
        run_id = entry.get("run_id")
        if run_id in runs:
            runs[run_id].update({k: v for k, v in entry.items() if k != "recorded"})
            continue
        uses.append(entry)
        if run_id:
            runs[run_id] = entry
    return uses
