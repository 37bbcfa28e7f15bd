"""records/files.py's one temp-file-and-rename: a file is replaced whole or left as it was."""

import pytest

from records.files import atomic_path, write_json_atomic, write_text_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_written_file_replaces_a_link_instead_of_writing_through_it(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("keep\n")
    link = tmp_path / "summary.json"
    link.symlink_to(elsewhere)
    write_json_atomic(link, {"n": 1})
    assert elsewhere.read_text() == "keep\n" and link.read_text() == '{\n  "n": 1\n}\n'
    write_text_atomic(tmp_path / "new" / "a.txt", "é")
    assert (tmp_path / "new" / "a.txt").read_bytes() == "é".encode()
