"""Every way a run ends leaves summary.json and dropped.jsonl; SIGTERM ends it as Ctrl-C does."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelcalls.concurrency import AdaptiveLimit
from modelcalls.journal import read_journal
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]


def _cmd(test_data, out, n):
    return [sys.executable, "-m", "selfinstruct", "generate", "-n", str(n), "--model", "m", "-o", str(out),
            "--seeds", str(test_data / "seeds_tiny.jsonl"), "--concurrency", "2", "-q"]


def _env(server):
    return {**os.environ, "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url, "PYTHONPATH": str(ROOT)}


def test_the_format_error_stop_still_writes_the_summary(test_data, tmp_path):
    from click.testing import CliRunner

    from commands.main import cli

    out = tmp_path / "o.jsonl"
    with LoopbackServer(script=["garbage"] * 60) as server:
        done = CliRunner().invoke(cli, _cmd(test_data, out, 10)[3:], env=_env(server))
    assert done.exit_code == 1 and "numbered format" in done.output
    summary = json.loads((tmp_path / "o.run" / "summary.json").read_text())
    assert summary["stopped_by"] == "error" and summary["lineage"]["drops"]["parse_incomplete"] >= 20
    assert (tmp_path / "o.run" / "dropped.jsonl").exists()


@pytest.mark.slow
def test_sigterm_exits_143_with_the_summary_and_resume_works(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    journal = tmp_path / "o.run" / "journal.jsonl"
    with LoopbackServer(latency_s=0.2, tasks_per_reply=2) as server:
        proc = subprocess.Popen(_cmd(test_data, out, 12), env=_env(server), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and (not journal.exists() or len(read_journal(journal).responses) < 2):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "terminated" in err and "resume" in err
        summary = json.loads((tmp_path / "o.run" / "summary.json").read_text())
        assert summary["stopped_by"] == "interrupted"
        before = read_journal(journal)
        assert len(before.responses) == len(before.requests)  # in-flight responses reached the journal
        done = subprocess.run(_cmd(test_data, out, 12), env=_env(server), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = read_journal(journal)
    assert [r["id"] for r in after.responses][: len(before.responses)] == [r["id"] for r in before.responses]
    assert len(out.read_text().splitlines()) == 12


def test_concurrency_halves_when_latency_nears_the_timeout_and_recovers():
    limit = AdaptiveLimit(8, timeout_s=60)
    limit.observe(10)
    assert limit.value == 8
    for latency, expected in ((35, 4), (31, 2), (40, 1), (50, 1)):  # a server answering one at a time
        limit.observe(latency)
        assert limit.value == expected
    for _ in range(3):
        limit.observe(5)
    assert limit.value == 4
    unlimited = AdaptiveLimit(8, timeout_s=None)  # in-process: no timeout to protect
    unlimited.observe(1000)
    assert unlimited.value == 8
