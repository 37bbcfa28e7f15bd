"""The run folder's files: named once, and summary.json replaced whole."""

import json
from types import SimpleNamespace

from selfinstruct.config import GenerateConfig
from selfinstruct.generate import write_run_files
from selfinstruct.run_folder import run_folder


def test_summary_is_replaced_whole_not_written_through(tmp_path):
    # A file written in place is rewritten through a link; one replaced by rename is not.
    folder = run_folder(tmp_path / "run")
    folder.root.mkdir()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}\n")
    folder.summary.symlink_to(elsewhere)
    result = SimpleNamespace(kept=[], dropped=[], run_dir=folder.root, lineage={"operation": "generate"},
                             stopped_by=None)
    write_run_files(result, GenerateConfig(model="m"), [])
    assert elsewhere.read_text() == "{}\n" and not folder.summary.is_symlink()
    assert json.loads(folder.summary.read_text())["lineage"] == {"operation": "generate"}
    assert folder.kept.exists() and folder.dropped.exists()
    assert sorted(p.name for p in folder.root.iterdir()) == ["dropped.jsonl", "kept.jsonl", "summary.json"]
