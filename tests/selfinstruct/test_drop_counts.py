"""Every candidate is accounted for once: kept, or dropped with its rule in dropped.jsonl."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from click.testing import CliRunner

from commands.main import cli
from selfinstruct.generate import generate
from selfinstruct.sieve import Sieve
from modelcalls.backends import build_backend
from tests.loopback_server import LoopbackServer
from tests.selfinstruct.test_staged import responder, staged_config


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _assert_reconciles(run_dir, summary_counts: dict, drops: dict) -> None:
    dropped = _lines(run_dir / "dropped.jsonl")
    kept = _lines(run_dir / "kept.jsonl")
    assert Counter(d["drop_reason"] for d in dropped) == Counter(drops)  # every drop has its row
    assert summary_counts["passed"] == len(kept)
    assert summary_counts["candidates"] == len(kept) + sum(drops.values()) + summary_counts.get("awaiting_instance", 0)


def test_a_run_cut_at_max_tokens_counts_and_lists_every_rejected_candidate(test_data, tmp_path):
    with LoopbackServer() as server:
        made = CliRunner().invoke(cli, ["generate", "-n", "10", "--model", "m", "--json", "--api", "completions",
                                        "--max-tokens", "128", "--seeds", str(test_data / "seeds_tiny.jsonl"),
                                        "-o", str(tmp_path / "o.jsonl")],
                                  env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url})
    assert made.exit_code == 0, made.output
    printed = json.loads(made.output)
    lineage = json.loads((tmp_path / "o.run" / "summary.json").read_text())["lineage"]
    assert lineage["drops"]["truncated"] > 0 and lineage["drops"]["rouge_duplicate"] > 0  # both kinds met
    _assert_reconciles(tmp_path / "o.run", lineage["counts"], lineage["drops"])
    assert printed["candidates"] == printed["kept_total"] + sum(printed["drops"].values())
    truncated = [d for d in _lines(tmp_path / "o.run" / "dropped.jsonl") if d["drop_reason"] == "truncated"]
    assert all(d["instruction"] and "request_id" in d for d in truncated)  # what was read of it, and where from


def test_a_self_instruct_run_reconciles_with_the_tasks_still_awaiting_an_instance(test_data, tmp_path):
    with LoopbackServer(reply=responder()) as server:
        cfg = staged_config(server, test_data)
        result = asyncio.run(generate(cfg, build_backend(cfg, api_key="k"), run_dir=tmp_path / "run"))
    _assert_reconciles(tmp_path / "run", result.lineage["counts"], result.lineage["drops"])


def test_the_parsers_rejects_are_candidates_with_rows():
    sieve = Sieve(["Name one primary colour of paint."])
    reply = (" Give two synonyms for the word quick.\n1. Input:\n<noinput>\n1. Output:\nFast, rapid.\n###\n"
             "2. Instruction: Name one primary colour of paint.\n2. Input:\n<noinput>\n2. Output:\nRed.\n###\n"
             "3. Instruction: Say hello in French.\n3. Input:\n<noinput>\n###\n"
             "4. Instruction: List three planets.\n4. Input:\n<noinput>\n4. Output:\nMars, Ven")
    request = {"id": 0, "prompts": ["p"], "num_examples": [0]}
    sieve.admit_response(request, {"completions": [{"text": reply, "finish_reason": "length"}]})
    reasons = [d["drop_reason"] for d in sieve.dropped]
    assert sorted(reasons) == ["parse_incomplete", "rouge_duplicate", "truncated"]
    assert sieve.stats.candidates == 4 == len(sieve.kept) + sum(sieve.stats.drops.values())
    assert {d["instruction"] for d in sieve.dropped} == {"Name one primary colour of paint.", "Say hello in French.", "List three planets."}
