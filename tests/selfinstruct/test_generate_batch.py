"""`generate --batch`: generation in waves through a loopback Batch API driven by the real openai
client. The records equal a synchronous run's over the same replies (and a replay's), a killed run
re-attaches without a second batch for its requests, failed requests are sent again and counted,
--max-cost holds back what could pass it at batch prices, and no key reaches a file."""

from __future__ import annotations

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
from modelcalls.accounting import max_request_cost
from modelcalls.journal import read_journal
from modelcalls.pricing import load_pricing, price_for
from modelcalls.tokens import get_counter
from tests.batch_server import BatchServer
from tests.loopback_server import LoopbackServer, numbered_reply
from tests.selfinstruct.test_staged import responder

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-WAVES-DO-NOT-LEAK-77"
FAST = ["--batch", "--poll-interval", "0.05"]


def args(test_data, out: Path, *extra: str, n: int = 30) -> list[str]:
    return ["generate", "-n", str(n), "--model", "loopback-model", "-o", str(out), "--seeds",
            str(test_data / "seeds_tiny.jsonl"), "-q", "--json", *extra]


def env(server) -> dict:
    return {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.url}


def invoke(argv: list[str], server):
    return CliRunner().invoke(cli, argv, env=env(server))


def summary_of(output: str) -> dict:
    return json.loads(output[output.index("{"): output.rindex("}") + 1])


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def batch_ids(server: BatchServer) -> list[list[str]]:
    """The custom ids of each batch the server created, in creation order."""
    batches = sorted(server.batches.values(), key=lambda b: b["_index"])
    return [[json.loads(x)["custom_id"] for x in server.files[b["input_file_id"]].splitlines()] for b in batches]


def test_waves_give_the_records_of_a_synchronous_run_and_of_its_replay(test_data, tmp_path):
    with LoopbackServer(reply=numbered_reply) as server:  # one at a time: sieved in request order
        sync = invoke(args(test_data, tmp_path / "sync.jsonl", "--concurrency", "1"), server)
    assert sync.exit_code == 0, sync.output
    with BatchServer(reply=numbered_reply) as server:
        batched = invoke(args(test_data, tmp_path / "batch.jsonl", *FAST), server)
        assert batched.exit_code == 0, batched.output
        waves = batch_ids(server)
        assert not server.requests  # nothing sent synchronously
    assert records(tmp_path / "batch.jsonl") == records(tmp_path / "sync.jsonl")
    assert len(records(tmp_path / "batch.jsonl")) == 30
    # a first wave sized by --expected-yield (8 per prompt: 4 requests for 30), then by the yield measured
    assert len(waves) >= 2 and len(waves[0]) == 4
    every = [i for wave in waves for i in wave]
    assert len(every) == len(set(every))  # no request in two batches
    summary = summary_of(batched.output)
    assert summary["batch"]["submitted"] and summary["usage"]["batched_requests"] == len(every)
    replay = CliRunner().invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(tmp_path / "batch.run"),
                                      "-n", "30", "-o", str(tmp_path / "replay.jsonl"), "-q"])
    assert replay.exit_code == 0, replay.output
    assert records(tmp_path / "replay.jsonl") == records(tmp_path / "batch.jsonl")
    for path in [*(tmp_path / "batch.run").iterdir(), tmp_path / "batch.jsonl"]:
        assert SECRET not in path.read_text(), path


def test_stages_of_self_instruct_go_in_waves_each_with_its_own_stop_sequences(test_data, tmp_path):
    with BatchServer(reply=responder()) as server:
        r = invoke(args(test_data, tmp_path / "o.jsonl", *FAST, "--method", "self-instruct", "--num-tasks", "3",
                        n=8), server)
        assert r.exit_code == 0, r.output
        waves = batch_ids(server)
        stops = {json.dumps(json.loads(x)["body"].get("stop")) for b in server.batches.values()
                 for x in server.files[b["input_file_id"]].splitlines()}
    assert len(records(tmp_path / "o.jsonl")) == 8
    assert len(stops) == 3  # the instruction lists', the classification's and the instances' stop sequences
    state = read_journal(tmp_path / "o.run" / "journal.jsonl")
    wave_of = {int(i.split("-")[1]): n for n, wave in enumerate(waves) for i in wave}
    for request in state.requests.values():  # an instance request waits for a wave after its classification's
        if request["stage"] == "instances":
            classify = next(q for q in state.requests.values()
                            if q["stage"] == "classify" and q["task"]["id"] == request["task"]["id"])
            assert wave_of[classify["id"]] < wave_of[request["id"]]


def test_failed_requests_are_sent_again_and_counted(test_data, tmp_path):
    with BatchServer(reply=numbered_reply, fail={"request-1"}) as server:
        r = invoke(args(test_data, tmp_path / "o.jsonl", *FAST), server)
        assert r.exit_code == 0, r.output
        assert len(server.requests) == 1  # request 1, synchronously
    batch = summary_of(r.output)["batch"]
    assert batch["failed_requests"] == 1 and batch["retried_sync"] == 1
    assert len(records(tmp_path / "o.jsonl")) == 30
    with BatchServer(reply=numbered_reply, fail={"request-2"}) as server:
        r = invoke(args(test_data, tmp_path / "b.jsonl", *FAST, "--batch-retry", "batch"), server)
        assert r.exit_code == 0, r.output
        assert not server.requests and ["request-2"] in batch_ids(server)  # again, in a batch of its own
    assert summary_of(r.output)["batch"]["retried_batch"] == 1


def test_max_cost_at_batch_prices_holds_back_what_could_pass_it(test_data, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"loopback-model": {"input": 1000.0, "output": 1000.0, "batch_input": 500.0,
                                                     "batch_output": 500.0}}))
    with BatchServer(reply=numbered_reply) as server:
        r = invoke(args(test_data, tmp_path / "o.jsonl", *FAST, "--pricing", str(prices), "--max-cost", "5",
                        "--max-tokens", "500", n=500), server)
        assert server.created >= 1 and not server.requests
    assert r.exit_code == 3, r.output
    assert "--max-cost" in r.output
    assert 0 < summary_of(r.output)["usage"]["dollars"] <= 5
    price, counter = price_for("loopback-model", load_pricing(str(prices))), get_counter("loopback-model")
    sent = read_journal(tmp_path / "o.run" / "journal.jsonl").requests.values()
    worst = [max_request_cost(q["prompts"], 500, price.batch, counter) for q in sent]
    assert sum(worst) <= 5 < sum(worst) + max(worst)  # every batch within the budget at batch prices ...
    assert sum(max_request_cost(q["prompts"], 500, price, counter) for q in sent) > 5  # ... not at synchronous ones


def test_no_wait_submits_a_wave_and_the_same_command_collects_it(test_data, tmp_path):
    with BatchServer(reply=numbered_reply, polls_to_finish=3) as server:
        first = invoke(args(test_data, tmp_path / "o.jsonl", *FAST, "--no-wait"), server)
        assert first.exit_code == 3, first.output
        assert "run the same command" in first.output and server.created == 1
        assert not (tmp_path / "o.jsonl").exists()
        done = invoke(args(test_data, tmp_path / "o.jsonl", *FAST), server)
        assert done.exit_code == 0, done.output
        waves = batch_ids(server)
    every = [i for wave in waves for i in wave]
    assert len(every) == len(set(every)) and len(records(tmp_path / "o.jsonl")) == 30


@pytest.mark.slow  # real processes
def test_kill_9_during_a_batch_then_rerun_creates_no_second_batch(test_data, tmp_path):
    out = tmp_path / "o.jsonl"
    cmd = [sys.executable, "-m", "selfinstruct", *args(test_data, out, *FAST)]
    journal = tmp_path / "o.run" / "journal.jsonl"
    with BatchServer(reply=numbered_reply) as server:
        server.hold = True  # the first wave stays in progress until the process is gone
        run_env = {**os.environ, **env(server), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while not journal.exists() or not read_journal(journal).batches:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert server.created == 1 and not read_journal(journal).responses
        server.hold = False
        done = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        waves = batch_ids(server)
    first = read_journal(journal)
    every = [i for wave in waves for i in wave]
    assert len(every) == len(set(every))  # no request in a second batch
    assert {r["batch_id"] for r in first.responses} == set(first.batches) and len(first.batches) == len(waves)
    assert len(records(out)) == 30
    for path in [*(tmp_path / "o.run").iterdir(), out]:
        assert SECRET not in path.read_text(), path


def test_batch_is_refused_in_one_line_where_it_cannot_work(test_data, tmp_path):
    with BatchServer(reply=numbered_reply) as server:
        local = invoke(args(test_data, tmp_path / "a.jsonl", *FAST, "--backend", "transformers"), server)
        responder = invoke(args(test_data, tmp_path / "b.jsonl", *FAST, "--response-model", "other"), server)
        assert server.created == 0
    assert local.exit_code == 2 and "in-process" in local.output and "Traceback" not in local.output
    assert responder.exit_code == 2 and "--response-model" in responder.output


def test_dry_run_with_batch_prices_the_plan_at_batch_rates(test_data, tmp_path):
    r = CliRunner().invoke(cli, ["generate", "-n", "1000", "--model", "gpt-4o-mini", "--seeds",
                                 str(test_data / "seeds_tiny.jsonl"), "--dry-run", "--batch", "--json"],
                           env={"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": ""})
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert plan["batch_dollars"] == pytest.approx(plan["dollars"] / 2, abs=1e-4)  # gpt-4o-mini's batch price is half
    assert plan["batch_worst_case_dollars"] == pytest.approx(plan["worst_case_dollars"] / 2, abs=1e-4)


def test_machine_examples_of_a_wave_come_from_records_kept_in_earlier_waves(test_data, tmp_path):
    with BatchServer(reply=numbered_reply) as server:
        r = invoke(args(test_data, tmp_path / "o.jsonl", *FAST, "--machine-examples", "2"), server)
        assert r.exit_code == 0, r.output
        waves = batch_ids(server)
    assert len(waves) >= 2
    state = read_journal(tmp_path / "o.run" / "journal.jsonl")
    kept = [json.loads(x) for x in (tmp_path / "o.run" / "kept.jsonl").read_text().splitlines()]
    wave_of = {int(i.split("-")[1]): n for n, wave in enumerate(waves) for i in wave}
    shown = 0
    for rid, request in state.requests.items():
        for record in kept:
            if record["instruction"] in request["prompts"][0]:
                assert wave_of[record["request_id"]] < wave_of[rid]  # kept before this wave was gathered
                shown += 1
    assert shown and all(n == 3 for q in state.requests.values() if wave_of[q["id"]] == 0 for n in q["num_examples"])
