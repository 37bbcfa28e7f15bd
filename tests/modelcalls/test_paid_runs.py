"""What every paid command shares through the request layer: SIGTERM drains and resumes without
paying twice, a reply too big for its token limit is cut and marked, and settings no endpoint can
work with are refused before anything is sent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from commands.main import cli
from modelcalls.backends.base import Decoding
from modelcalls.backends.openai_backend import OVERSIZED, OpenAIBackend
from modelcalls.journal import read_journal
from selfinstruct.generate import MAX_BARREN_RESPONSES
from tests.judge_server import JudgeServer
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]


def _answers(path: Path, generator: str, n: int) -> Path:
    rows = [{"instruction": f"Task {i}: describe item {i}.", "output": f"Answer {i}, quality {(i + len(generator)) % 3}.",
             "generator": generator, "dataset": "toy"} for i in range(n)]
    path.write_text(json.dumps(rows))
    return path


def _user_set(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"instruction": f"Describe thing number {i}.", "dataset": "toy"}) + "\n"
                            for i in range(n)))
    return path


def _judge_args(tmp_path, server):
    a, b = _answers(tmp_path / "a.json", "model-a", 12), _answers(tmp_path / "b.json", "model-bb", 12)
    out = tmp_path / "out"
    return (["eval", "judge", "--a", str(a), "--b", str(b), "--judge-model", "j", "-o", str(out), "--base-url",
             server.url, "--concurrency", "4", "--n-boot", "50", "--json"], out / "judge.run" / "journal.jsonl")


def _answer_args(tmp_path, server):
    out = tmp_path / "answers.json"
    return (["eval", "answer", "--model", "m", "--base-url", server.url, "--set", str(_user_set(tmp_path / "s.jsonl", 24)),
             "-o", str(out), "--concurrency", "4", "-q"], tmp_path / "answers.run" / "journal.jsonl")


@pytest.mark.slow  # a real child process, stopped by a real signal
@pytest.mark.parametrize("command", [_judge_args, _answer_args], ids=["eval judge", "eval answer"])
def test_sigterm_drains_what_is_in_flight_and_the_rerun_pays_for_nothing_twice(tmp_path, command):
    with JudgeServer(latency_s=0.4) as server:
        args, journal = command(tmp_path, server)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test"}
        child = subprocess.Popen([sys.executable, "-m", "selfinstruct", *args], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and (not journal.exists() or len(read_journal(journal).responses) < 4):
            time.sleep(0.02)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 143, err
        assert "terminated" in err and "resume" in err and "Traceback" not in err
        state = read_journal(journal)
        assert state.requests and len(state.responses) == len(state.requests)  # every request sent was journaled
        paid = {state.requests[r["id"]]["prompts"][0] for r in state.responses}
        before = len(server.requests)
        assert len(paid) == before  # nothing was sent that the journal does not hold
        result = CliRunner().invoke(cli, args, env={"OPENAI_API_KEY": "sk-test"})
        assert result.exit_code == 0, result.output
        resent = [r["body"]["messages"][-1]["content"] for r in server.requests[before:]]
    assert resent and not paid & set(resent)


def test_a_reply_bigger_than_its_token_limit_allows_is_cut_and_marked(tmp_path):
    with LoopbackServer(reply=lambda prompt: "x" * 1_500_000, script=["flood"]) as server:
        backend = OpenAIBackend("m", base_url=server.url, api_key="k")
        response = asyncio.run(backend.complete(["Say hi."], Decoding(max_tokens=16)))
    assert [(c.text, c.finish_reason) for c in response.completions] == [("", OVERSIZED)]
    assert response.usage["completion_tokens"] == 16  # priced as the most the request could cost
    assert backend.retries == {"oversized_reply": 1}


def test_replies_of_megabytes_stop_a_run_at_the_stall_rule_with_a_small_journal(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    with LoopbackServer(reply=lambda prompt: "1. Instruction: " + "word " * 600_000, script=["flood"] * 200) as server:
        result = CliRunner().invoke(cli, ["generate", "-n", "10", "--model", "m", "-o", str(out), "-q", "--seeds",
                                          str(test_data / "seeds_tiny.jsonl"), "--max-tokens", "256"],
                                    env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url})
        sent = len(server.requests)
    assert result.exit_code == 1 and "numbered format" in result.output
    assert sent <= MAX_BARREN_RESPONSES + 2 * 8  # the stall rule, plus what was in flight when it fired
    journal = tmp_path / "o.run" / "journal.jsonl"
    assert journal.stat().st_size < 1_000_000  # 3 MB replies are not kept
    finishes = {c["finish_reason"] for r in read_journal(journal).responses for c in r["completions"]}
    assert finishes == {OVERSIZED}


BAD_SETTINGS = [(["--timeout", "0"], "timeout"), (["--timeout", "nan"], "timeout"),
                (["--base-url", "ht!tp://::::"], "base_url"), (["--base-url", "localhost:8000/v1"], "base_url"),
                (["--base-url", "http://host:99999/v1"], "base_url"), (["--concurrency", "0"], "concurrency")]


@pytest.mark.parametrize("bad, named", BAD_SETTINGS)
def test_settings_no_endpoint_can_use_are_refused_at_once_by_every_paid_command(tmp_path, bad, named):
    answers = _answers(tmp_path / "a.json", "model-a", 2)
    commands = {
        "generate": ["generate", "-n", "2", "--model", "m", "-o", str(tmp_path / "o.jsonl")],
        "eval answer": ["eval", "answer", "--model", "m", "--set", str(_user_set(tmp_path / "s.jsonl", 2)),
                        "-o", str(tmp_path / "ans.json"), "--base-url", "http://127.0.0.1:9/v1"],
        "eval judge": ["eval", "judge", "--a", str(answers), "--b", str(answers), "--judge-model", "j",
                       "-o", str(tmp_path / "j")],
    }
    for name, args in commands.items():
        result = CliRunner().invoke(cli, [*args, *bad], env={"OPENAI_API_KEY": "k"})
        assert result.exit_code == 2, (name, result.output)
        assert named in result.output and "Traceback" not in result.output, (name, result.output)
        assert not list(tmp_path.glob("*.run")) and not (tmp_path / "j").exists()


def test_chat_refuses_a_base_url_that_is_not_one(tmp_path):
    result = CliRunner().invoke(cli, ["chat", "--base-url", "ht!tp://::::"], input="hello\n")
    assert result.exit_code == 2 and "base_url" in result.output


def test_an_env_base_url_that_is_not_one_is_named(tmp_path):
    result = CliRunner().invoke(cli, ["generate", "-n", "2", "--model", "m", "-o", str(tmp_path / "o.jsonl")],
                                env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "ht!tp://::::"})
    assert result.exit_code == 2 and "OPENAI_BASE_URL" in result.output
