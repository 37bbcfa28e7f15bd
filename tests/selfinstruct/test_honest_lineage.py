"""A replayed, re-sieved or resumed run never records a setting it did not use."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from commands.main import cli
from modelcalls.journal import read_journal
from records.timestamps import iso_utc
from tests.loopback_server import LoopbackServer


def _generate(server, test_data, tmp_path, *args):
    return CliRunner().invoke(cli, ["generate", "-n", "4", "--model", "m", "-q", "--json", "--seeds",
                                    str(test_data / "seeds_tiny.jsonl"), *args],
                              env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url})


def test_a_replay_carries_the_recorded_runs_settings_and_window_and_says_what_it_changed(test_data, tmp_path):
    run = tmp_path / "o.run"
    with LoopbackServer() as server:
        made = _generate(server, test_data, tmp_path, "-o", str(tmp_path / "o.jsonl"), "--api", "completions",
                         "--temperature", "0.7", "--top-p", "0.9", "--max-tokens", "256")
        assert made.exit_code == 0, made.output
    recorded = read_journal(run / "journal.jsonl")
    replayed = CliRunner().invoke(cli, ["generate", "--backend", "replay", "--run-dir", str(run), "-o",
                                        str(tmp_path / "r.jsonl"), "--filters", "alpaca", "-q"])
    assert replayed.exit_code == 0, replayed.output
    lineage = json.loads((tmp_path / "r.replay" / "summary.json").read_text())["lineage"]
    assert lineage["generator"]["api"] == "completions"
    assert lineage["generator"]["decoding"] == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 256}
    times = [e["time"] for e in (*recorded.starts, *recorded.responses)]
    assert lineage["time_window"] == {"started": iso_utc(min(times)), "finished": iso_utc(max(times))}
    assert lineage["replay"]["changed"] == {"filters": {"recorded": "strict", "replay": "alpaca"}}
    assert Path(lineage["replayed_from"]).is_absolute() and Path(lineage["run_dir"]).is_absolute()


def test_resuming_with_another_decoding_setting_is_refused_naming_it(test_data, tmp_path):
    out = str(tmp_path / "o.jsonl")
    with LoopbackServer() as server:
        assert _generate(server, test_data, tmp_path, "-o", out, "--temperature", "0.7").exit_code == 0
        starts = len(read_journal(tmp_path / "o.run" / "journal.jsonl").starts)
        sent = len(server.requests)
        again = _generate(server, test_data, tmp_path, "-o", out, "--temperature", "0.3", "-n", "6")
        assert again.exit_code == 2, again.output
        assert "temperature (0.7 in the journal, 0.3 now)" in again.output and "new --run-dir" in again.output
        assert len(server.requests) == sent
        assert len(read_journal(tmp_path / "o.run" / "journal.jsonl").starts) == starts  # nothing written
        grown = _generate(server, test_data, tmp_path, "-o", out, "--temperature", "0.7", "-n", "6")
        assert grown.exit_code == 0, grown.output
    summary = json.loads((tmp_path / "o.run" / "summary.json").read_text())
    assert summary["config"]["temperature"] == 0.7


def test_a_journal_from_before_the_settings_were_keys_is_compared_by_its_config(test_data, tmp_path):
    out = str(tmp_path / "o.jsonl")
    journal = tmp_path / "o.run" / "journal.jsonl"
    with LoopbackServer() as server:
        assert _generate(server, test_data, tmp_path, "-o", out, "--top-p", "0.9").exit_code == 0
        lines = [json.loads(x) for x in journal.read_text().splitlines()]
        for line in lines:  # as an older journal holds it: the settings only inside its config
            if line["event"] == "start":
                for key in ("top_p", "temperature", "api", "max_tokens"):
                    line.pop(key, None)
        journal.write_text("".join(json.dumps(x) + "\n" for x in lines))
        refused = _generate(server, test_data, tmp_path, "-o", out, "-n", "6")
        assert refused.exit_code == 2 and "top_p (0.9 in the journal, 1.0 now)" in refused.output
        assert _generate(server, test_data, tmp_path, "-o", out, "-n", "6", "--top-p", "0.9").exit_code == 0
