"""Faults met through the real `selfinstruct generate` process: exit codes, what the journal keeps,
a full disk, a refused endpoint, a corrupt journal and a run directory already in use."""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelcalls.backends import build_backend
from commands.main import cli
from selfinstruct.config import GenerateConfig
from modelcalls.journal import Journal, read_journal
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]


def command(test_data, out, *args):
    return [sys.executable, "-m", "selfinstruct", "generate", "--model", "m", "-q", "-o", str(out),
            "--seeds", str(test_data / "seeds_tiny.jsonl"), *args]


def env(url):
    return {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": url, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow  # real processes
def test_unreadable_replies_are_retried_and_what_came_is_journaled(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    with LoopbackServer(script=["html", "truncated", "no_choices", "surrogate"]) as server:
        done = subprocess.run(command(test_data, out, "-n", "10", "--concurrency", "4"), env=env(server.url),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    state = read_journal(tmp_path / "o.run" / "journal.jsonl")
    received = [r["received"] for resp in state.responses for r in resp.get("rejected", ())]
    assert any("<html>" in x for x in received) and any(x.startswith('{"id": "x", "choices": [{"ind') for x in received)
    assert any('"choices": []' in x for x in received)
    assert len(out.read_text().splitlines()) == 10


def test_a_lone_surrogate_is_journaled_and_reads_back():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        journal = Journal(d)
        journal.write("request", id=0, prompts=["p"])
        journal.write("response", id=0, completions=[{"text": "a \ud800 b"}])
        journal.close()
        assert read_journal(Path(d) / "journal.jsonl").responses[0]["completions"][0]["text"] == "a \ud800 b"


def _limit_file_size(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow  # real processes
def test_a_full_disk_stops_with_a_clear_message_and_the_rerun_resumes(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    journal = tmp_path / "o.run" / "journal.jsonl"
    cmd = command(test_data, out, "-n", "30", "--concurrency", "2")
    with LoopbackServer(tasks_per_reply=4) as server:
        full = subprocess.run(cmd, env=env(server.url), capture_output=True, text=True, timeout=120,
                              preexec_fn=_limit_file_size(12_000))
        assert full.returncode == 1, full.stderr
        assert "Traceback" not in full.stderr and f"{journal}: could not append" in full.stderr
        assert "run the same command to resume" in full.stderr
        before = read_journal(journal)
        assert before.responses and journal.stat().st_size <= 12_000
        sent_before = len(server.requests)
        done = subprocess.run(cmd, env=env(server.url), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        sent_after = len(server.requests) - sent_before
    after = read_journal(journal)
    ids = [r["id"] for r in after.responses]
    assert ids[: len(before.responses)] == [r["id"] for r in before.responses] and len(ids) == len(set(ids))
    assert sent_after == len(after.responses) - len(before.responses)  # nothing journaled was asked again
    assert len(out.read_text().splitlines()) == 30


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_endpoint_exits_2_on_the_first_attempt(test_data, tmp_path):
    done = subprocess.run(command(test_data, tmp_path / "o.jsonl", "-n", "5"),
                          env=env(f"http://127.0.0.1:{_closed_port()}/v1"), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "connection refused" in done.stderr
    assert "attempt 1" not in done.stderr and "retrying" not in done.stderr  # no attempt was retried
    assert read_journal(tmp_path / "o.run" / "journal.jsonl").responses == []


def test_timeout_reaches_the_client():
    backend = build_backend(GenerateConfig(base_url="http://127.0.0.1:9/v1", timeout_s=0.25), api_key="k")
    assert backend._client.timeout == 0.25


def test_a_corrupt_journal_exits_2_naming_the_line_and_sends_nothing(test_data, tmp_path):
    run = tmp_path / "o.run"
    run.mkdir()
    lines = [json.dumps({"event": "request", "id": 0, "prompts": ["p"]}), "{not json",
             json.dumps({"event": "response", "id": 0, "completions": []})]
    (run / "journal.jsonl").write_text("\n".join(lines) + "\n")
    with LoopbackServer() as server:
        done = CliRunner().invoke(cli, command(test_data, tmp_path / "o.jsonl", "-n", "5")[3:], env=env(server.url))
        assert server.requests == []
    assert done.exit_code == 2 and f"{run / 'journal.jsonl'}:2" in done.output and "--salvage" in done.output
    assert done.output.count("\n") == 1 and (run / "journal.jsonl").read_text() == "\n".join(lines) + "\n"


@pytest.mark.slow  # real processes
def test_a_second_generate_on_the_same_run_dir_exits_2_naming_the_holder(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    journal = tmp_path / "o.run" / "journal.jsonl"
    with LoopbackServer(latency_s=600) as server:  # the first process waits on its requests until killed
        first = subprocess.Popen(command(test_data, out, "-n", "5"), env=env(server.url),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while not (journal.exists() and b'"event": "request"' in journal.read_bytes()):
                assert first.poll() is None, "the first generate ended early"
                time.sleep(0.05)
            second = subprocess.run(command(test_data, out, "-n", "5"), env=env(server.url), capture_output=True,
                                    text=True, timeout=120)
        finally:
            first.kill()
            first.wait()
    assert second.returncode == 2 and f"pid {first.pid}" in second.stderr
