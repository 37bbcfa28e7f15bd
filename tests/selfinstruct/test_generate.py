"""Generation end to end: loopback server, real openai client, journal, resume, replay, budget."""

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

from modelcalls.backends import build_backend
from commands.main import cli
from selfinstruct.config import GenerateConfig
from selfinstruct.errors import SelfInstructError
from selfinstruct.generate import generate
from modelcalls.journal import read_journal
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-DO-NOT-LEAK-1234"


def config(server, test_data, **kw):
    defaults = dict(num_instructions=30, model="loopback-model", base_url=server.url,
                    seeds=str(test_data / "seeds_tiny.jsonl"), concurrency=4)
    return GenerateConfig(**{**defaults, **kw})


def run_generate(cfg, run_dir):
    return asyncio.run(generate(cfg, build_backend(cfg, api_key=SECRET), run_dir=run_dir))


def test_generates_exactly_n_with_provenance(server, test_data, tmp_path):
    result = run_generate(config(server, test_data), tmp_path / "run")
    assert len(result.records) == 30
    assert len({r["instruction"] for r in result.records}) == 30
    assert result.usage.requests == len(server.requests) and result.usage.prompt_tokens > 0
    kept = [json.loads(x) for x in (tmp_path / "run" / "kept.jsonl").read_text().splitlines()]
    assert {"most_similar", "rouge_l", "request_id"} <= kept[0].keys()
    dropped = [json.loads(x) for x in (tmp_path / "run" / "dropped.jsonl").read_text().splitlines()]
    dups = [d for d in dropped if d["drop_reason"] == "rouge_duplicate"]
    assert all(d["collided_with"] and d["rouge_l"] > 0.7 for d in dups)
    assert sum(result.stats.drops.values()) >= len(dropped)
    state = read_journal(tmp_path / "run" / "journal.jsonl")
    assert len(state.responses) == len(state.requests) == len(server.requests)
    lineage = result.lineage
    assert lineage["generator"]["endpoint_host"].startswith("127.0.0.1")
    assert lineage["counts"]["kept"] == 30 and lineage["prompt"]["sha256"]


def test_api_key_is_never_written(server, test_data, tmp_path):
    run_generate(config(server, test_data, num_instructions=10), tmp_path / "run")
    for path in (tmp_path / "run").iterdir():
        assert SECRET not in path.read_text(), path


def test_cut_replies_lose_only_their_last_task(server, test_data, tmp_path):
    server.script.extend(["cut"] * 3)
    result = run_generate(config(server, test_data, num_instructions=20, concurrency=1), tmp_path / "run")
    assert result.stats.drops["truncated"] == 3 and len(result.records) == 20


def test_completions_api_batches_prompts(server, test_data, tmp_path):
    cfg = config(server, test_data, api="completions", request_batch_size=4, num_instructions=40)
    result = run_generate(cfg, tmp_path / "run")
    assert len(result.records) == 40
    assert all(len(r["body"]["prompt"]) == 4 for r in server.requests)


def test_model_ignoring_the_format_stops_the_run(server, test_data, tmp_path):
    server.script.extend(["garbage"] * 100)
    with pytest.raises(SelfInstructError, match="numbered format"):
        run_generate(config(server, test_data, concurrency=2), tmp_path / "run")
    assert len(server.requests) < 40


def test_resume_refuses_a_different_model(server, test_data, tmp_path):
    run_generate(config(server, test_data, num_instructions=5), tmp_path / "run")
    with pytest.raises(SelfInstructError, match="different model"):
        run_generate(config(server, test_data, num_instructions=5, model="other"), tmp_path / "run")


def test_resume_after_completion_sends_nothing_and_grows_on_demand(server, test_data, tmp_path):
    first = run_generate(config(server, test_data, num_instructions=20), tmp_path / "run")
    sent = len(server.requests)
    again = run_generate(config(server, test_data, num_instructions=20), tmp_path / "run")
    assert len(server.requests) == sent and again.records == first.records
    more = run_generate(config(server, test_data, num_instructions=40), tmp_path / "run")
    assert more.records[:20] == first.records and len(more.records) == 40


def _cli_env(server):
    return {**os.environ, "OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": server.url, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow  # real processes
def test_kill_9_then_rerun_resumes_without_rerequesting(test_data, tmp_path):
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "selfinstruct", "generate", "-n", "20", "--model", "loopback-model", "-o", str(out),
           "--seeds", str(test_data / "seeds_tiny.jsonl"), "--concurrency", "2", "-q"]
    journal = tmp_path / "out.run" / "journal.jsonl"
    # three answers, then requests that are never answered: the process is killed while it waits
    with LoopbackServer(tasks_per_reply=3, script=["ok"] * 3 + ["stall"] * 2) as server:
        proc = subprocess.Popen(cmd, env=_cli_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while not journal.exists() or len(read_journal(journal).responses) < 3:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        server.script.clear()  # a stall the killed process did not reach must not meet the rerun
        before = read_journal(journal)
        assert len(before.responses) == 3 and not out.exists()
        first_run_hits = len(server.requests)
        done = subprocess.run(cmd, env=_cli_env(server), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        second_run_hits = len(server.requests) - first_run_hits
    after = read_journal(journal)
    answered_ids = [r["id"] for r in after.responses]
    assert answered_ids[: len(before.responses)] == [r["id"] for r in before.responses]
    assert len(answered_ids) == len(set(answered_ids))  # no request answered twice
    # every request of the second run produced a new response: none went to an already-answered id
    assert second_run_hits == len(after.responses) - len(before.responses)
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(records) == 20 and len({r["instruction"] for r in records}) == 20


def test_replay_resieves_with_new_settings_and_sends_nothing(server, test_data, tmp_path):
    env = _cli_env(server)
    runner = CliRunner()
    seeds = str(test_data / "seeds_tiny.jsonl")
    r = runner.invoke(cli, ["generate", "-n", "40", "--model", "loopback-model", "-o", str(tmp_path / "a.jsonl"),
                            "--seeds", seeds, "-q"], env=env)
    assert r.exit_code == 0, r.output
    sent = len(server.requests)
    loose = runner.invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(tmp_path / "a.run"), "-n", "1000",
                                "--seeds", seeds, "--rouge-threshold", "0.95", "-o", str(tmp_path / "b.jsonl"),
                                "--json"], env={"OPENAI_API_KEY": ""})
    assert loose.exit_code == 0, loose.output
    assert len(server.requests) == sent
    summary = json.loads(loose.output[: loose.output.rindex("}") + 1])
    tight = runner.invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(tmp_path / "a.run"), "-n", "1000",
                                "--seeds", seeds, "--rouge-threshold", "0.5", "-o", str(tmp_path / "c.jsonl"), "--json"])
    assert tight.exit_code == 0, tight.output
    tight_summary = json.loads(tight.output[: tight.output.rindex("}") + 1])
    assert summary["records"] > tight_summary["records"] >= 0
    assert summary["records"] >= 40
    lineage = json.loads((tmp_path / "b.replay" / "summary.json").read_text())["lineage"]
    assert lineage["generator"]["model"] == "loopback-model"  # the journal's model, --model not given
    assert lineage["replayed_from"] == str(tmp_path / "a.run")


def test_max_cost_stops_before_the_budget(server, test_data, tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"loopback-model": {"input": 1000.0, "output": 1000.0}}))
    r = CliRunner().invoke(cli, ["generate", "-n", "500", "--model", "loopback-model", "-o", str(tmp_path / "o.jsonl"),
                                 "--seeds", str(test_data / "seeds_tiny.jsonl"), "--pricing", str(prices),
                                 "--max-cost", "5", "--max-tokens", "500", "-q", "--json"], env=_cli_env(server))
    assert r.exit_code == 3, r.output
    summary = json.loads(r.output[: r.output.rindex("}") + 1])
    assert 0 < summary["usage"]["dollars"] <= 5 and summary["records"] < 500


def test_without_endpoint_explains_and_shows_plan(test_data, tmp_path, monkeypatch):
    from selfinstruct import local_model

    monkeypatch.setattr(local_model, "gguf_file", lambda: None)  # as where the local component is not installed
    env = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
    r = CliRunner().invoke(cli, ["generate", "-n", "100", "-o", str(tmp_path / "o.jsonl"),
                                 "--seeds", str(test_data / "seeds_tiny.jsonl")], env=env)
    assert r.exit_code == 2
    assert "OPENAI_API_KEY" in r.output and "OPENAI_BASE_URL" in r.output
    assert "requests" in r.output and "expected cost" in r.output
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.run").exists()


def test_dry_run_plan_json(test_data):
    r = CliRunner().invoke(cli, ["generate", "-n", "800", "--dry-run", "--json", "--expected-yield", "8",
                                 "--seeds", str(test_data / "seeds_tiny.jsonl"), "--model", "gpt-4o-mini"])
    assert r.exit_code == 0, r.output
    plan = json.loads(r.output)
    assert plan["requests"] == 100 and plan["prompt_tokens"] > 100 * 200
    assert plan["dollars"] > 0 and plan["worst_case_dollars"] >= plan["dollars"]


def test_bad_key_fails_fast_with_a_clear_message(test_data, tmp_path):
    with LoopbackServer(script=["401"] * 50) as server:
        r = CliRunner().invoke(cli, ["generate", "-n", "10", "--model", "m", "-o", str(tmp_path / "o.jsonl"),
                                     "--seeds", str(test_data / "seeds_tiny.jsonl"), "-q"], env=_cli_env(server))
        assert len(server.requests) <= 8  # the requests already in flight, none retried
    assert r.exit_code == 1 and "refused the API key" in r.output


def test_machine_examples_join_later_prompts(test_data, tmp_path):
    # With --machine-examples a new prompt is built only once every received response is sieved, so
    # from the second request on (the first response keeps records) each prompt shows two of them.
    with LoopbackServer() as server:
        result = run_generate(config(server, test_data, num_instructions=40, machine_examples=2, concurrency=2),
                              tmp_path / "run")
    kept = {r["instruction"] for r in result.kept}
    prompts = [r["body"]["messages"][0]["content"] for r in server.requests]
    shown = [sum(f"Instruction: {k}\n" in p for k in kept) for p in prompts]
    assert len(prompts) >= 3 and shown[0] == 0 and all(n == 2 for n in shown[2:]), shown


def test_kept_records_carry_their_exact_nearest_earlier_instruction(server, test_data, tmp_path):
    from rouge_score import rouge_scorer

    result = run_generate(config(server, test_data, num_instructions=25), tmp_path / "run")
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [t["instruction"] for t in (json.loads(x) for x in (test_data / "seeds_tiny.jsonl").read_text().splitlines())]
    for record in result.kept:
        scores = [(scorer.score(p, record["instruction"])["rougeL"].fmeasure, p) for p in pool]
        best = max(scores, key=lambda sp: sp[0])
        if best[0] >= 0.5:
            assert record["rouge_l"] == pytest.approx(best[0], abs=1e-4)
            assert scorer.score(record["most_similar"], record["instruction"])["rougeL"].fmeasure == pytest.approx(best[0])
        else:
            assert record["most_similar"] is None and record["rouge_l"] == 0.0
        pool.append(record["instruction"])


def test_a_model_repeating_itself_stops_the_run(test_data, tmp_path):
    same = [{"instruction": "Name three rivers that flow through Europe.", "input": "", "output": "Danube, Rhine, Loire."}]
    with LoopbackServer(records=same, tasks_per_reply=1) as server:
        r = CliRunner().invoke(cli, ["generate", "-n", "50", "--model", "m", "-o", str(tmp_path / "o.jsonl"),
                                     "--seeds", str(test_data / "seeds_tiny.jsonl"), "--stall-responses", "10",
                                     "--concurrency", "2", "-q", "--json"], env=_cli_env(server))
        sent = len(server.requests)
    assert r.exit_code == 3, r.output
    assert "repeating itself" in r.output
    summary = json.loads(r.output[: r.output.rindex("}") + 1])
    assert summary["records"] == 1 and summary["stopped_by"] == "stalled"
    assert sent <= 1 + 10 + 2 + 2  # the first response, ten idle ones, and at most the requests then in flight


def test_replay_without_n_keeps_everything_the_journal_yields(test_data, tmp_path):
    seeds = str(test_data / "seeds_tiny.jsonl")
    with LoopbackServer(tasks_per_reply=20, diverse=True) as server:
        r = CliRunner().invoke(cli, ["generate", "-n", "101", "--model", "m", "-o", str(tmp_path / "a.jsonl"),
                                     "--seeds", seeds, "-q"], env=_cli_env(server))
    assert r.exit_code == 0, r.output
    everything = CliRunner().invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(tmp_path / "a.run"),
                                          "--seeds", seeds, "-o", str(tmp_path / "b.jsonl"), "--json"])
    summary = json.loads(everything.output)
    assert everything.exit_code == 0 and summary["records"] == summary["kept_total"] > 100
    assert len((tmp_path / "b.jsonl").read_text().splitlines()) == summary["records"]
    capped = CliRunner().invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(tmp_path / "a.run"),
                                      "--seeds", seeds, "-o", str(tmp_path / "c.jsonl"), "-n", "5", "--json"])
    assert json.loads(capped.output)["records"] == 5
