"""Score layers end to end: a loopback judge through the real openai client, stored per record,
reused across versions, resumable, verifiable, and selections by them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import registry
from commands.main import cli
from curation.judge_scores import parse_score
from curation.select import kept_rows, parse_condition
from modelcalls.journal import read_journal
from registry.layers import list_layers, read_layer, record_hashes, version_scores
from registry.verify import verify
from tests.curation.score_server import ScoreServer, hidden_score

ROOT = Path(__file__).resolve().parents[2]


def records(n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"instruction": [f"Describe item number {i}." for i in range(start, start + n)],
                         "input": ["" for _ in range(n)],
                         "output": [f"Item {i} is a thing with {i % 7} parts." for i in range(start, start + n)]})


def commit(frame, root, name="d", parents=None):
    return registry.commit(frame, name=name, lineage={"operation": "import"}, root=str(root), parents=parents or ())


def score(root, ref, server, *args, env=None):
    url = server.url if server else "http://127.0.0.1:9/v1"  # a replay sends nothing
    return CliRunner().invoke(cli, ["registry", "score", ref, "--scorer", "judge", "--judge-model", "j", "--base-url",
                                    url, "--registry", str(root), "--json", *args],
                              env={"OPENAI_API_KEY": "sk-test", **(env or {})})


def test_the_layer_holds_the_judges_score_of_every_record_and_counts_what_it_could_not_read(tmp_path):
    frame = records(12)
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("OUT OF RANGE answer"))
                               .otherwise(pl.col("output")).alias("output"))
    v = commit(frame, tmp_path)
    with ScoreServer(script=["ok", "garbage", "ok", "ok", "cut"]) as server:
        r = score(tmp_path, v.ref, server, "--concurrency", "1")
        assert r.exit_code == 0, r.output
        assert len(server.requests) == 12
    summary = json.loads(r.output)
    assert summary["missing"] == {"out_of_range": 1, "truncated": 1, "unparseable": 1}
    scored = version_scores(v, ["judge"], root=str(tmp_path))
    for row in scored.iter_rows(named=True):
        if row["output"] == "OUT OF RANGE answer":
            assert row["judge"] is None
    expected = {o: hidden_score(o) for o in frame["output"]}
    got = [(row["output"], row["judge"]) for row in scored.iter_rows(named=True) if row["judge"] is not None]
    assert len(got) == 9 and all(score == expected[o] for o, score in got)
    assert all(r.startswith("The output has") for r in scored["judge_reason"].drop_nulls())
    manifest = list_layers(v, root=str(tmp_path))["judge"]
    assert manifest["scorer"]["model"] == "j" and manifest["missing"] == 3 and manifest["usage"]["requests"] == 12
    assert len(manifest["scorer"]["prompt_sha256"]) == 64 and manifest["scorer"]["endpoint_host"].startswith("127.0.0.1:")


def test_a_derived_version_pays_only_for_its_new_records(tmp_path):
    v1 = commit(records(10), tmp_path)
    with ScoreServer() as server:
        assert score(tmp_path, v1.ref, server).exit_code == 0
        before = len(server.requests)
        v2 = commit(pl.concat([records(10).head(7), records(4, start=50)]), tmp_path, parents=[v1.ref])
        r = score(tmp_path, v2.ref, server)
        assert r.exit_code == 0, r.output
        assert len(server.requests) - before == 4  # only the 4 new records were asked
    assert json.loads(r.output)["reused"] == 7
    layer = read_layer(v2, "judge", root=str(tmp_path))
    assert layer.height == 11 and layer["score"].null_count() == 0


def test_a_changed_scorer_setting_reuses_nothing_and_a_taken_name_is_refused(tmp_path):
    v = commit(records(5), tmp_path)
    with ScoreServer() as server:
        assert score(tmp_path, v.ref, server).exit_code == 0
        again = score(tmp_path, v.ref, server)
        assert again.exit_code == 2 and "already has a layer named 'judge'" in again.output
        hot = score(tmp_path, v.ref, server, "--temperature", "0.5", "--as", "judge-hot")
        assert hot.exit_code == 0, hot.output
        assert json.loads(hot.output)["reused"] == 0 and len(server.requests) == 10


def test_an_edited_layer_fails_verify_naming_the_file(tmp_path):
    v = commit(records(6), tmp_path)
    with ScoreServer() as server:
        assert score(tmp_path, v.ref, server).exit_code == 0
    assert verify(v.ref, root=str(tmp_path)).ok
    manifest = list_layers(v, root=str(tmp_path))["judge"]
    obj = tmp_path / manifest["object"]["path"]
    layer = pl.read_parquet(obj).with_columns(pl.lit(5.0).alias("score"))
    obj.chmod(0o644)
    layer.write_parquet(obj)
    report = verify(v.ref, root=str(tmp_path))
    assert not report.ok and any("judge.json" in p.path and "edited" in p.problem for p in report.problems)
    manifest_file = next((tmp_path / "datasets" / "d" / "layers").rglob("judge.json"))
    text = json.loads(manifest_file.read_text())
    text["missing"] = 0
    manifest_file.write_text(json.dumps(text))
    report = verify(v.ref, root=str(tmp_path))
    assert any(str(manifest_file) in p.path or "judge.json" in p.path for p in report.problems)
    r = CliRunner().invoke(cli, ["registry", "verify", v.ref, "--registry", str(tmp_path)])
    assert r.exit_code == 1 and "judge.json" in r.output


def test_dry_run_prices_and_max_cost_stops_short_then_the_rerun_finishes(tmp_path):
    v = commit(records(8), tmp_path)
    pricing = tmp_path / "p.json"
    pricing.write_text(json.dumps({"j": {"input": 1000.0, "output": 1000.0}}))
    with ScoreServer() as server:
        plan = score(tmp_path, v.ref, server, "--dry-run", "--pricing", str(pricing))
        assert plan.exit_code == 0 and json.loads(plan.output)["requests"] == 8 and server.requests == []
        short = score(tmp_path, v.ref, server, "--pricing", str(pricing), "--max-cost", "1.5", "--max-tokens", "50",
                      "--concurrency", "1")
        assert short.exit_code == 3, short.output
        assert "no layer written" in short.output and list_layers(v, root=str(tmp_path)) == {}
        sent = len(server.requests)
        assert 0 < sent < 8
        done = score(tmp_path, v.ref, server, "--pricing", str(pricing), "--max-tokens", "50")
        assert done.exit_code == 0, done.output
        assert len(server.requests) == 8  # the rest, each once
    replayed = score(tmp_path, v.ref, None, "--replay", "--as", "judge2", "--pricing", str(pricing),
                     "--max-tokens", "50", "--run-dir", str(tmp_path / "runs" / "score" / "d@1.judge"))
    assert replayed.exit_code == 0, replayed.output
    assert read_layer(v, "judge2", root=str(tmp_path)).equals(read_layer(v, "judge", root=str(tmp_path)))


@pytest.mark.slow  # a real child process killed mid-run
def test_kill_9_then_the_same_command_scores_no_record_twice(tmp_path):
    v = commit(records(24), tmp_path)
    journal = tmp_path / "runs" / "score" / "d@1.judge" / "journal.jsonl"
    with ScoreServer(latency_s=0.1) as server:
        args = ["registry", "score", v.ref, "--scorer", "judge", "--judge-model", "j", "--base-url", server.url,
                "--registry", str(tmp_path), "--concurrency", "2", "-q"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test"}
        child = subprocess.Popen([sys.executable, "-m", "selfinstruct", *args], env=env, cwd=tmp_path,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and (not journal.exists() or len(read_journal(journal).responses) < 6):
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        first = [r["body"]["messages"][-1]["content"] for r in server.requests]
        state = read_journal(journal)
        assert 6 <= len(state.responses) < 24
        r = CliRunner().invoke(cli, args, env={"OPENAI_API_KEY": "sk-test"})
        assert r.exit_code == 0, r.output
        resent = [r["body"]["messages"][-1]["content"] for r in server.requests[len(first):]]
    paid = {state.requests[r["id"]]["prompts"][0] for r in state.responses}
    assert not paid & set(resent) and len(paid) + len(resent) == 24
    assert read_layer(v, "judge", root=str(tmp_path))["score"].null_count() == 0


@pytest.mark.parametrize("text, score, problem", [
    ("Fine.\nScore: 4.5", 4.5, None), ("Score: 0", 0.0, None), ("ok\n Score:5 \n\n", 5.0, None),
    ("Score: 4.25", None, "out_of_range"), ("Score: 6", None, "out_of_range"), ("I think 4.", None, "unparseable"),
    ("Score: 4\nthanks", None, "unparseable"), ("", None, "unparseable"),
])
def test_the_score_line_is_read_strictly(text, score, problem):
    got, _, why = parse_score(text)
    assert (got, why) == (score, problem)
    assert parse_score("Score: 3", "length")[2] == "truncated"


def _scored(values):
    return pl.DataFrame({"instruction": [f"{'Write' if i % 2 else 'List'} thing {i}." for i in range(len(values))],
                         "judge": values}, schema={"instruction": pl.String, "judge": pl.Float64})


def test_where_keeps_rows_whose_condition_holds_and_never_a_missing_score():
    keep, counts = kept_rows(_scored([5, 4.5, None, 3, 4.5, 5]), [parse_condition("judge>=4.5")], None, None, False,
                             None)
    assert keep == [0, 1, 4, 5] and counts["missing_scores"] == {"judge": 1}
    keep, _ = kept_rows(_scored([5, 4.5, None, 3]), [parse_condition("judge<4.5")], None, None, False, None)
    assert keep == [3]


def test_top_breaks_ties_by_row_order_and_skips_missing_scores():
    frame = _scored([4, 5, None, 4, 5, 3, 4])
    assert kept_rows(frame, [], 3, "judge", False, None)[0] == [0, 1, 4]  # 5, 5, then the first 4
    assert kept_rows(frame, [], 2, "judge", True, None)[0] == [0, 5]  # lowest: 3, then the first 4
    assert kept_rows(frame, [], 10, "judge", False, None)[0] == [0, 1, 3, 4, 5, 6]


def test_top_stratified_shares_n_by_group_size():
    frame = _scored([1, 2, 3, 4, 5, 6, 7, 8])  # List (even rows) and Write (odd rows), 4 each
    keep, counts = kept_rows(frame, [], 4, "judge", False, "verb")
    assert keep == [4, 5, 6, 7] and counts["strata"] == {"list": 2, "write": 2}


def test_select_commits_a_version_whose_lineage_says_how_it_was_chosen(tmp_path):
    v = commit(records(10), tmp_path)
    with ScoreServer() as server:
        assert score(tmp_path, v.ref, server).exit_code == 0
    r = CliRunner().invoke(cli, ["registry", "select", v.ref, "--where", "judge>=2.5", "--into", "good",
                                 "--registry", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    child = registry.resolve("good@1", root=str(tmp_path))
    expected = [o for o in records(10)["output"] if hidden_score(o) >= 2.5]
    assert registry.open("good@1", root=str(tmp_path))["output"].to_list() == expected
    lineage = child.manifest["lineage"]
    assert lineage["operation"] == "select" and lineage["rule"]["where"] == ["judge>=2.5"]
    assert lineage["counts"] == {"parent_rows": 10, "kept": len(expected), "dropped": 10 - len(expected),
                                 "missing_scores": {"judge": 0}, "passed_where": len(expected)}
    assert lineage["layers"]["judge"]["scorer"]["kind"] == "judge" and child.parents == [v.ref]
    # the curated version's records keep their scores: a layer over it reuses them all
    with ScoreServer() as server:
        r = score(tmp_path, "good@1", server)
        assert r.exit_code == 0 and server.requests == [] and json.loads(r.output)["reused"] == len(expected)


def test_bad_rules_are_one_line_exit_2(tmp_path):
    v = commit(records(3), tmp_path)
    for args, needle in [(["--where", "judge=>4"], "LAYER OP NUMBER"), (["--where", "judge>=4"], "no layer 'judge'"),
                         (["--top", "2"], "--by"), ([], "--where")]:
        r = CliRunner().invoke(cli, ["registry", "select", v.ref, "--into", "x", "--registry", str(tmp_path), *args])
        assert r.exit_code == 2 and needle in r.output, (args, r.output)
    assert record_hashes(records(2)) != record_hashes(records(2, start=1))


def test_batch_scoring_equals_the_synchronous_layer_at_half_the_price_and_no_wait_collects_later(tmp_path):
    from tests.batch_server import BatchServer
    from tests.curation.score_server import reply_for

    v = commit(records(9), tmp_path)
    with BatchServer(reply=reply_for) as server:
        sync = score(tmp_path, v.ref, server, "--as", "sync")
        assert sync.exit_code == 0, sync.output
        batched = ("--as", "batched", "--batch", "--max-tokens", "400")  # other settings: nothing is reused
        pricing = tmp_path / "p.json"
        pricing.write_text(json.dumps({"j": {"input": 100.0, "output": 100.0, "batch_input": 50.0, "batch_output": 50.0}}))
        plan = json.loads(score(tmp_path, v.ref, server, *batched, "--dry-run", "--pricing", str(pricing)).output)
        assert plan["batch"] is True and plan["requests"] == 9
        assert plan["dollars"] * 2 == pytest.approx(plan["sync_dollars"], rel=1e-3)
        submitted = score(tmp_path, v.ref, server, *batched, "--no-wait", "--poll-interval", "0.05")
        assert submitted.exit_code == 3 and "run the same command" in submitted.output
        assert "batched" not in list_layers(v, root=str(tmp_path))
        done = score(tmp_path, v.ref, server, *batched, "--poll-interval", "0.05")
        assert done.exit_code == 0, done.output
        assert len(server.batches) == 1  # the rerun collected the batch in flight, it made no second one
    summary = json.loads(done.output)
    assert summary["batch"]["collected"] and summary["usage"]["batched_requests"] == 9
    layers = {n: read_layer(v, n, root=str(tmp_path)) for n in ("sync", "batched")}
    assert layers["batched"].select("record", "score").equals(layers["sync"].select("record", "score"))
