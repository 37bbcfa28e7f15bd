"""A corrupt journal line that is not the torn last one stops the run intact; --salvage keeps the good."""

import json

import pytest

from modelcalls.journal import Journal, JournalError, RunLocked, read_journal


def _journal(tmp_path, middle: bytes) -> bytes:
    lines = [json.dumps({"event": "request", "id": i, "prompts": []}).encode() + b"\n" for i in range(5)]
    lines += [json.dumps({"event": "response", "id": i}).encode() + b"\n" for i in range(5)]
    data = b"".join(lines[:6] + [middle] + lines[6:])
    (tmp_path / "journal.jsonl").write_bytes(data)
    return data


@pytest.mark.parametrize("middle", [b'{"event": "resp\n', b"\xff\xfe\n", b"[1, 2]\n", b'{"event": "response", "id": 99}\n'])
def test_bad_middle_line_stops_intact_and_salvage_keeps_good(tmp_path, middle):
    data = _journal(tmp_path, middle)
    with pytest.raises(JournalError, match=r"journal.jsonl:7"):
        Journal(tmp_path)
    assert (tmp_path / "journal.jsonl").read_bytes() == data
    state = read_journal(tmp_path / "journal.jsonl", salvage=True)
    assert len(state.responses) == 5
    assert (tmp_path / "journal.jsonl.bad").read_bytes() == middle


def test_second_holder_is_refused_with_pid(tmp_path):
    first = Journal(tmp_path)
    with pytest.raises(RunLocked, match=r"pid \d+"):
        Journal(tmp_path)
    first.close()
    Journal(tmp_path).close()
