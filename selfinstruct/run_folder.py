"""The files of a generation's run folder, named once for the generator and the web app.

    runs/r1/
        journal.jsonl    every request and raw response (modelcalls/journal.py)
        kept.jsonl       kept records, with the nearest instruction and its ROUGE-L
        dropped.jsonl    dropped candidates, with the reason
        summary.json     the resolved config, the lineage and why the run stopped
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from modelcalls.journal import JOURNAL

KEPT = "kept.jsonl"
DROPPED = "dropped.jsonl"
SUMMARY = "summary.json"


class RunFolder(NamedTuple):
    """The paths of one run folder: `run_folder("runs/r1").kept`."""

    root: Path
    journal: Path
    kept: Path
    dropped: Path
    summary: Path


def run_folder(root: str | Path) -> RunFolder:
    root = Path(root)
    return RunFolder(root, root / JOURNAL, root / KEPT, root / DROPPED, root / SUMMARY)
