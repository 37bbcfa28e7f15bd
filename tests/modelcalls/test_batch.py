"""Requests through the Batch API (`--batch` on `eval answer` and `eval judge`), against a loopback
server with files and batches endpoints, driven by the real openai client: the same results as a
synchronous run, one batch however often the run is killed, every failed request sent again, and
batch prices in the plan, the budget and the summary."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from click.testing import CliRunner

from commands.main import cli
from modelcalls.batch import input_line, split_files
from modelcalls.backends.base import Decoding
from modelcalls.backends.openai_backend import OpenAIBackend
from modelcalls.journal import read_journal
from modelcalls.pricing import load_pricing, price_for
from records.errors import InputError
from tests.batch_server import BatchServer

ROOT = Path(__file__).resolve().parents[2]
ENV = {"OPENAI_API_KEY": "sk-test-batch-key"}
FAST = ["--batch", "--poll-interval", "0.05"]


def echo(prompt: str) -> str:
    return f"An answer to: {prompt[-80:]}"


def _answers(path: Path, generator: str, n: int) -> Path:
    rows = [{"instruction": f"Task {i}: describe item {i}.", "output": f"Answer {i}, quality {(i + len(generator)) % 3}.",
             "generator": generator, "dataset": "toy"} for i in range(n)]
    path.write_text(json.dumps(rows))
    return path


def judge_args(tmp_path: Path, server, *extra: str, items: int = 6) -> list[str]:
    a, b = _answers(tmp_path / "a.json", "model-a", items), _answers(tmp_path / "b.json", "model-bb", items)
    return ["eval", "judge", "--a", str(a), "--b", str(b), "--judge-model", "gpt-4o-mini", "-o", str(tmp_path / "out"),
            "--base-url", server.url, "--n-boot", "50", "--json", *extra]


def answer_args(tmp_path: Path, server, *extra: str, items: int = 8) -> list[str]:
    set_path = tmp_path / "set.jsonl"
    set_path.write_text("".join(json.dumps({"instruction": f"Describe thing number {i}.", "dataset": "toy"}) + "\n"
                                for i in range(items)))
    return ["eval", "answer", "--model", "gpt-4o-mini", "--base-url", server.url, "--set", str(set_path),
            "-o", str(tmp_path / "answers.json"), "-q", *extra]


def nth(server: BatchServer, index: int) -> dict:
    """The server's batch created `index`-th."""
    return next(b for b in server.batches.values() if b["_index"] == index)


def invoke(args: list[str]):
    return CliRunner().invoke(cli, args, env=ENV)


def journal_of(tmp_path: Path, args: list[str]) -> Path:
    return tmp_path / ("out/judge.run" if args[1] == "judge" else "answers.run") / "journal.jsonl"


def test_batched_answers_equal_synchronous_ones_and_carry_the_same_request_bodies(tmp_path):
    sync_dir, batch_dir = tmp_path / "sync", tmp_path / "batch"
    sync_dir.mkdir(), batch_dir.mkdir()
    with BatchServer(reply=echo) as server:
        assert invoke(answer_args(sync_dir, server)).exit_code == 0
        sync_bodies = {r["body"]["messages"][0]["content"]: r["body"] for r in server.requests}
        result = invoke(answer_args(batch_dir, server, *FAST))
        assert result.exit_code == 0, result.output
        assert server.created == 1 and len(server.requests) == len(sync_bodies)  # nothing sent synchronously
        lines = [json.loads(x) for x in server.files[nth(server, 0)["input_file_id"]].splitlines()]
    assert json.loads((batch_dir / "answers.json").read_text()) == json.loads((sync_dir / "answers.json").read_text())
    assert {line["body"]["messages"][0]["content"]: line["body"] for line in lines} == sync_bodies
    assert sorted(line["custom_id"] for line in lines) == sorted(f"request-{i}" for i in range(8))
    state = read_journal(batch_dir / "answers.run" / "journal.jsonl")
    assert {r["batch_id"] for r in state.responses} == set(server.batches)
    assert len(state.batches) == len(state.batch_ends) == 1


def test_batched_verdicts_equal_synchronous_ones_at_half_the_price(tmp_path):
    sync_dir, batch_dir = tmp_path / "sync", tmp_path / "batch"
    sync_dir.mkdir(), batch_dir.mkdir()
    with BatchServer(first_bias=0.3) as server:
        sync = json.loads(invoke(judge_args(sync_dir, server)).output)
        batched = invoke(judge_args(batch_dir, server, *FAST))
        assert batched.exit_code == 0, batched.output
    batched = json.loads(batched.output)
    assert batched["win_rate"] == sync["win_rate"] and batched["items_scored"] == sync["items_scored"] == 6
    assert (json.loads((batch_dir / "out" / "annotations.json").read_text())
            == json.loads((sync_dir / "out" / "annotations.json").read_text()))
    # the loopback server reports the same usage either way; gpt-4o-mini's batch price is half its own
    assert batched["usage"]["batched_requests"] == 12 and sync["usage"]["batched_requests"] == 0
    assert batched["usage"]["sync_dollars"] == pytest.approx(sync["usage"]["dollars"])
    assert batched["usage"]["dollars"] == pytest.approx(sync["usage"]["dollars"] / 2, abs=2e-6)  # rounded to 6 places
    assert batched["batch"]["submitted"] and batched["batch"]["failed_requests"] == 0
    with BatchServer() as server:  # --replay prices the journal as it was paid: batch results at batch prices
        replayed = json.loads(invoke([*judge_args(batch_dir, server), "--replay"]).output)
    assert replayed["usage"] == batched["usage"]


def test_requests_past_a_file_limit_go_in_several_batches_with_the_same_verdicts(tmp_path):
    from evaluation.judge import JudgeConfig
    from evaluation.pairwise import judge_answer_files
    from modelcalls.batch import BatchOptions

    a, b = _answers(tmp_path / "a.json", "model-a", 6), _answers(tmp_path / "b.json", "model-bb", 6)
    with BatchServer(first_bias=0.3) as server:
        cfg = JudgeConfig("gpt-4o-mini", base_url=server.url, n_boot=50)
        sync = judge_answer_files(a, b, cfg, tmp_path / "sync", api_key="sk-test")
        seen = []  # what the progress bar is shown: every batch at every poll
        split = judge_answer_files(a, b, cfg, tmp_path / "split", api_key="sk-test",
                                   batch=BatchOptions(poll_interval_s=0.05, max_requests_per_file=5),
                                   batch_progress=lambda statuses, elapsed_s: seen.extend(statuses))
        sizes = sorted(nth(server, i)["request_counts"]["total"] for i in range(server.created))
    assert sizes == [2, 5, 5] and len(split["batch"]["submitted"]) == 3
    assert {s.status for s in seen} >= {"in_progress", "finalizing", "completed"}
    assert sorted((s.completed, s.total) for s in seen if s.status == "completed") == [(2, 2), (5, 5), (5, 5)]
    assert split["win_rate"] == sync["win_rate"] and split["items_scored"] == 6


@pytest.mark.slow  # a real child process, killed by a real signal
@pytest.mark.parametrize("command", [judge_args, answer_args], ids=["eval judge", "eval answer"])
def test_kill_9_after_submission_then_the_same_command_reattaches_to_the_one_batch(tmp_path, command):
    with BatchServer(reply=echo if command is answer_args else None) as server:
        server.hold = True  # in progress until the first run is dead
        args = command(tmp_path, server, *FAST)
        env = {**os.environ, "PYTHONPATH": str(ROOT), **ENV}
        child = subprocess.Popen([sys.executable, "-m", "selfinstruct", *args], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        journal = journal_of(tmp_path, args)
        deadline = time.time() + 60
        while time.time() < deadline and not (journal.exists() and read_journal(journal).batches):
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        assert read_journal(journal).batches and not read_journal(journal).responses
        server.hold = False
        result = invoke(args)
        assert result.exit_code == 0, result.output
        assert server.created == 1 and not server.requests  # one batch, nothing paid for twice
    state = read_journal(journal)
    assert len(state.responses) == len({r["id"] for r in state.responses}) == len(state.requests)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert ENV["OPENAI_API_KEY"] not in path.read_text(errors="replace"), path


def test_a_batch_created_just_before_a_kill_is_found_not_made_again(tmp_path):
    with BatchServer() as server:
        server.hold = True
        args = judge_args(tmp_path, server, *FAST)
        first = invoke([*args, "--no-wait"])
        assert first.exit_code == 3 and "run the same command to collect" in first.output
        assert not (tmp_path / "out" / "results.json").exists()  # nothing is written before every verdict is in
        journal = journal_of(tmp_path, args)
        # the kill came after the batch was created and before the journal named it
        lines = [x for x in journal.read_text().splitlines() if json.loads(x)["event"] != "batch"]
        journal.write_text("".join(x + "\n" for x in lines))
        assert read_journal(journal).batch_files and not read_journal(journal).batches
        server.hold = False
        result = invoke(args)
        assert result.exit_code == 0, result.output
        assert server.created == 1 and not server.requests
    assert json.loads(result.output)["items_scored"] == 6


def test_a_lost_answer_to_creating_a_batch_is_not_retried_into_a_second_batch(tmp_path):
    with BatchServer() as server:
        server.drop_create = 1
        result = invoke(judge_args(tmp_path, server, *FAST))
        assert result.exit_code == 0, result.output
        assert server.created == 1 and not server.requests
    assert json.loads(result.output)["items_scored"] == 6


@pytest.mark.parametrize("retry", ["sync", "batch"])
def test_failed_and_expired_requests_are_sent_again_and_counted(tmp_path, retry):
    with BatchServer(fail={"request-0", "request-3"}, expire={0}) as server:
        result = invoke(judge_args(tmp_path, server, *FAST, "--batch-retry", retry))
        assert result.exit_code == 0, result.output
        # the first batch expired with half of its 12 requests run, two of those failed: 8 sent again
        again = len(server.requests) if retry == "sync" else nth(server, 1)["request_counts"]["total"]
        created = server.created
    results = json.loads(result.output)
    assert results["batch"]["failed_requests"] == 8 and results["batch"]["expired"]
    assert again == 8 and created == (1 if retry == "sync" else 2)
    assert results["batch"]["retried_" + retry] == 8 and results["items_scored"] == 6
    state = read_journal(tmp_path / "out" / "judge.run" / "journal.jsonl")
    assert len(state.responses) == 12 and sum("batch_id" in r for r in state.responses) == (4 if retry == "sync" else 12)


def test_unreadable_result_lines_are_sent_again_not_guessed(tmp_path):
    with BatchServer(garble={"request-2", "request-5"}) as server:
        result = invoke(judge_args(tmp_path, server, *FAST))
        assert result.exit_code == 0, result.output
        assert sorted(r["body"]["messages"][0]["content"] for r in server.requests) == sorted(
            json.loads(x)["body"]["messages"][0]["content"] for x in server.files[nth(server, 0)["input_file_id"]]
            .splitlines() if json.loads(x)["custom_id"] in ("request-2", "request-5"))
    results = json.loads(result.output)
    assert results["batch"]["failed_requests"] == 2 and results["batch"]["retried_sync"] == 2
    assert results["items_scored"] == 6 and results["unparseable"] == 0 and results["missing_replies"] == 0


def test_a_kill_while_collecting_keeps_each_result_once(tmp_path):
    with BatchServer() as server:
        args = judge_args(tmp_path, server, *FAST)
        assert invoke(args).exit_code == 0
        journal = tmp_path / "out" / "judge.run" / "journal.jsonl"
        # the kill came after five results were journaled, before the batch was closed
        lines, kept = [], 0
        for x in journal.read_text().splitlines():
            event = json.loads(x)["event"]
            if event == "batch_end" or (event == "response" and kept >= 5):
                continue
            kept += event == "response"
            lines.append(x)
        journal.write_text("".join(x + "\n" for x in lines))
        (tmp_path / "out" / "results.json").unlink()
        result = invoke(args)
        assert result.exit_code == 0, result.output
        assert server.created == 1 and not server.requests
    state = read_journal(journal)
    assert sorted(r["id"] for r in state.responses) == list(range(12)) and len(state.batch_ends) == 1
    assert json.loads(result.output)["items_scored"] == 6


def test_a_cancelled_batch_is_reported_and_the_next_run_submits_its_requests_again(tmp_path):
    with BatchServer() as server:
        server.hold = True
        args = judge_args(tmp_path, server, *FAST)
        assert invoke([*args, "--no-wait"]).exit_code == 3
        openai.OpenAI(base_url=server.url, api_key="sk-test").batches.cancel(next(iter(server.batches)))
        server.hold = False
        cancelled = invoke(args)
        assert cancelled.exit_code == 3 and "cancelled" in cancelled.output and not server.requests
        result = invoke(args)
        assert result.exit_code == 0, result.output
        assert server.created == 2 and not server.requests
    assert json.loads(result.output)["items_scored"] == 6


def test_dry_run_and_max_cost_use_batch_prices(tmp_path):
    with BatchServer() as server:
        args = judge_args(tmp_path, server)
        sync_plan = json.loads(invoke([*args, "--dry-run"]).output)
        batch_plan = json.loads(invoke([*args, "--dry-run", "--batch"]).output)
        assert batch_plan["dollars"] == pytest.approx(sync_plan["dollars"] / 2, abs=1e-4)
        assert batch_plan["sync_dollars"] == sync_plan["dollars"] and batch_plan["batch"] is True
        assert batch_plan["worst_case_dollars"] == pytest.approx(sync_plan["worst_case_dollars"] / 2, abs=1e-4)
        # a budget the batch fits in but the synchronous run would not: all twelve go in one batch
        budget = (batch_plan["worst_case_dollars"] + sync_plan["worst_case_dollars"]) / 2
        result = invoke([*args, *FAST, "--max-cost", str(budget)])
        assert result.exit_code == 0, result.output
        assert nth(server, 0)["request_counts"]["total"] == 12
        # half the batch's worst case: the batch holds only what fits, and the run says it stopped short
        (tmp_path / "half").mkdir()
        short = invoke([*judge_args(tmp_path / "half", server), *FAST, "--max-cost",
                        str(batch_plan["worst_case_dollars"] / 2)])
        assert short.exit_code == 3 and "--max-cost" in short.output
        assert 0 < nth(server, 1)["request_counts"]["total"] < 12


def test_the_batch_file_is_split_at_the_limits():
    lines = [(i, b"x" * (10 + i)) for i in range(7)]
    assert [[i for i, _ in f] for f in split_files(lines, 3, 10_000)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [[i for i, _ in f] for f in split_files(lines, 100, 25)] == [[0, 1], [2, 3], [4], [5], [6]]
    assert [[i for i, _ in f] for f in split_files(lines, 100, 45)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [[i for i, _ in f] for f in split_files(lines, 100, 5)] == [[i] for i in range(7)]  # too big: alone


def test_input_line_is_the_synchronous_request_body():
    backend = OpenAIBackend("gpt-4o-mini", base_url="http://127.0.0.1:9/v1", api_key="k")
    decoding = Decoding(temperature=0.0, max_tokens=16, seed=3)
    line = json.loads(input_line(backend, {"id": 41, "prompts": ["Say hi."]}, decoding))
    assert line == {"custom_id": "request-41", "method": "POST", "url": "/v1/chat/completions",
                    "body": backend.request_body(["Say hi."], decoding)}
    assert line["body"]["messages"] == [{"role": "user", "content": "Say hi."}] and line["body"]["seed"] == 3


def test_pricing_has_batch_prices_and_a_file_without_them_pays_the_synchronous_rate(tmp_path):
    shipped = price_for("gpt-4o-mini-2024-07-18", load_pricing())
    assert shipped.batch.cost(10**6, 10**6) == pytest.approx(shipped.cost(10**6, 10**6) / 2)
    user = tmp_path / "prices.json"
    user.write_text(json.dumps({"mine": {"input": 1.0, "output": 2.0}, "cheap": {"input": 1.0, "output": 2.0,
                                                                                 "batch_input": 0.1, "batch_output": 0.2}}))
    prices = load_pricing(user)
    assert prices["mine"].batch.cost(10**6, 10**6) == 3.0 and prices["cheap"].batch.cost(10**6, 10**6) == pytest.approx(0.3)
    user.write_text(json.dumps({"bad": {"input": 1.0, "output": 2.0, "batch_output": "half"}}))
    with pytest.raises(InputError, match="batch_output"):
        load_pricing(user)


def test_batch_options_are_refused_where_they_cannot_work(tmp_path):
    with BatchServer() as server:
        alone = invoke([*judge_args(tmp_path, server), "--no-wait"])
        assert alone.exit_code == 2 and "--no-wait needs --batch" in alone.output
        zero = invoke([*judge_args(tmp_path, server), "--batch", "--poll-interval", "0"])
        assert zero.exit_code == 2 and "poll_interval" in zero.output
        endpoint = answer_args(tmp_path, server)
        local = invoke(["eval", "answer", "--model", str(tmp_path), *endpoint[6:], "--batch"])  # no --base-url
        assert local.exit_code == 2 and "--batch needs an endpoint" in local.output
        assert server.created == 0 and not server.requests
