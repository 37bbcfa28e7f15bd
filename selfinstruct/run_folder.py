"""The files of a generation's run folder, named once for the generator and the web app.

    runs/r1/
        journal.jsonl    every request and raw response (selfinstruct/journal.py)
        kept.jsonl       kept records, with the nearest instruction and its ROUGE-L
        dropped.jsonl    dropped candidates, with the reason
        summary.json     the resolved config, the lineage and why the run stopped
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selfinstruct.journal import JOURNAL

KEPT = "kept.jsonl"
DROPPED = "dropped.jsonl"
SUMMARY = "summary.json"


@dataclass(frozen=True)
class RunFolder:
    """The paths of one run folder."""

    root: Path

    @property
    def journal(self) -> Path:
        return Path(self.root) / JOURNAL

    @property
    def kept(self) -> Path:
        return Path(self.root) / KEPT

    @property
    def dropped(self) -> Path:
        return Path(self.root) / DROPPED

    @property
    def summary(self) -> Path:
        return Path(self.root) / SUMMARY
