"""Self-Instruct's staged method: stage parsers, and whole runs against the loopback server."""

import asyncio
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelcalls.backends import build_backend
from selfinstruct.config import GenerateConfig
from selfinstruct.generate import generate
from modelcalls.journal import read_journal
from selfinstruct.staged import parse_instance, parse_instruction_list, parse_yes_no
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
TOPICS = ("volcano", "budget", "sonnet", "glacier", "violin", "tariff", "compass", "lantern", "fossil", "harbor",
          "orchestra", "cactus", "satellite", "walrus", "meadow", "quartz", "pension", "kettle", "ferry", "chimney")


def test_instruction_list_continues_after_the_last_number():
    reply = (" Suggest a weekend plan for a family visiting a museum.\n10. **Write a haiku about autumn rain.**\n"
             "11. - Classify the sentence as a question or a statement.\n12. Explain how tides")
    items, rejected = parse_instruction_list(reply, "length")
    assert items == ["Suggest a weekend plan for a family visiting a museum.", "Write a haiku about autumn rain.",
                     "Classify the sentence as a question or a statement."]
    assert rejected == [("Explain how tides", "truncated")]
    chat = "Here are some more tasks:\n9. Name a river in Africa.\n\nI hope these help!"
    assert parse_instruction_list(chat)[0] == ["Name a river in Africa."]


def test_instance_replies_in_both_orders():
    assert parse_instance(" <noinput>\nOutput: Kale and carrots.", False) == ({"input": "", "output": "Kale and carrots."}, None)
    chat = "Input: 3, 1, 2\nOutput: 1, 2, 3\n\nTask: Write a limerick.\nInput: <noinput>"
    assert parse_instance(chat, False) == ({"input": "3, 1, 2", "output": "1, 2, 3"}, None)
    assert parse_instance(" Positive\nInput: What a lovely day.", True) == (
        {"input": "What a lovely day.", "output": "Positive"}, None)
    assert parse_instance("**Class label:** No\n**Input:** 12", True) == ({"input": "12", "output": "No"}, None)
    assert parse_instance(" I am not sure.", False) == (None, "parse_incomplete")
    assert parse_instance(" text\nOutput: cut mid", False, "length") == (None, "truncated")
    assert parse_yes_no(" Yes.") is True and parse_yes_no("No, it is not") is False and parse_yes_no("Maybe") is None


def test_a_list_prompt_shows_six_seeds_and_two_accepted_instructions():
    from selfinstruct.prompts import load_shipped
    from selfinstruct.seeds import load_seeds
    from selfinstruct.staged import instructions_request

    seeds = load_seeds().tasks
    template = load_shipped("self_instruct_instructions.txt")
    pool = ["Plan a picnic menu for six people.", "Name two uses of baking soda.", "Explain what a tariff is."]
    cfg = GenerateConfig(method="self-instruct", num_tasks_per_prompt=5)
    first = instructions_request(0, cfg, seeds, template, [])["prompts"][0]
    assert first.endswith("\n7.") and len(re.findall(r"^\d+\. ", first, re.M)) == 6
    later = instructions_request(1, cfg, seeds, template, pool)
    shown = re.findall(r"^\d+\. (.*)$", later["prompts"][0], re.M)
    assert len(shown) == 8 and later["num_examples"] == [8] and later["prompts"][0].endswith("\n9.")
    assert sum(s in pool for s in shown) == 2 and sum(s in {t.instruction for t in seeds} for s in shown) == 6
    assert "5 more tasks" in later["prompts"][0]
    assert instructions_request(1, cfg, seeds, template, pool) == later  # the same request on resume


def responder():
    """Scripted replies by stage: a fresh numbered list, Yes for tasks that say 'Classify', instances."""
    counter = itertools.count()

    def reply(prompt: str) -> str:
        if prompt.rstrip().endswith("Classification:"):
            task = re.findall(r"Task: (.*)", prompt)[-1]
            return "Yes" if task.startswith("Classify") else "No"
        if prompt.rstrip().endswith("Class label:"):
            return " Positive\nInput: The staff were kind and the room was spotless."
        if prompt.rstrip().endswith("Input:"):
            task = re.findall(r"Task: (.*)", prompt)[-1]
            return f" <noinput>\nOutput: A short, complete answer about the {task.split()[-1].rstrip('.')} for the reader."
        n = int(re.findall(r"(\d+)\.$", prompt.rstrip())[0])
        k = next(counter)
        items = [f"Describe how a {TOPICS[(k * 3 + i) % len(TOPICS)]} changes a {TOPICS[(k * 7 + i * 5 + 1) % len(TOPICS)]} "
                 f"over {k * 3 + i + 2} years." if i != 1 else
                 f"Classify review {k} about the {TOPICS[k % len(TOPICS)]} as positive or negative." for i in range(3)]
        return " " + "\n".join(f"{n + j}. {t}" if j else t for j, t in enumerate(items))

    return reply


def staged_config(server, test_data, **kw):
    defaults = dict(num_instructions=8, model="writer", base_url=server.url, method="self-instruct",
                    seeds=str(test_data / "seeds_tiny.jsonl"), concurrency=3, num_tasks_per_prompt=3)
    return GenerateConfig(**{**defaults, **kw})


def test_stages_run_in_order_and_classification_goes_output_first(test_data, tmp_path):
    with LoopbackServer(reply=responder()) as server:
        cfg = staged_config(server, test_data)
        result = asyncio.run(generate(cfg, build_backend(cfg, api_key="k"), run_dir=tmp_path / "run"))
        prompts = [r["body"]["messages"][0]["content"] for r in server.requests]
    assert len(result.records) == 8
    state = read_journal(tmp_path / "run" / "journal.jsonl")
    stages = [r["stage"] for r in state.requests.values()]
    assert {"instructions", "classify", "instances"} == set(stages)
    for req in state.requests.values():
        if req["stage"] == "instances":  # each instance request follows its task's classification answer
            classify = [q for q in state.requests.values() if q["stage"] == "classify" and q["task"]["id"] == req["task"]["id"]]
            assert len(classify) == 1 and classify[0]["id"] < req["id"]
            is_clf = req["task"]["instruction"].startswith("Classify")
            assert req["task"]["classification"] is is_clf
            assert req["prompts"][0].rstrip().endswith("Class label:" if is_clf else "Input:")
    clf = [r for r in result.records if r["instruction"].startswith("Classify")]
    assert clf and all(r["output"] == "Positive" and r["input"].startswith("The staff") for r in clf)
    assert all(r["input"] == "" and r["output"].startswith("A short") for r in result.records if r not in clf)
    lineage = result.lineage
    assert lineage["method"] == "self-instruct" and lineage["counts"]["tasks_accepted"] >= 8
    assert set(lineage["prompt"]["stages"]) == {"instructions", "classify", "input_first", "output_first"}
    assert all(len(v["sha256"]) == 64 for v in lineage["prompt"]["stages"].values())


def test_a_response_model_answers_on_its_own_endpoint(test_data, tmp_path):
    with LoopbackServer(reply=responder()) as writer, LoopbackServer(reply=responder()) as answerer:
        cfg = staged_config(writer, test_data, num_instructions=4, response_model="answerer-model",
                            response_base_url=answerer.url)
        result = asyncio.run(generate(cfg, build_backend(cfg, api_key="k"), run_dir=tmp_path / "run",
                                      response_backend=build_backend(cfg.response_endpoint(), api_key="k")))
        wrote = [r["body"] for r in writer.requests]
        answered = [r["body"] for r in answerer.requests]
    assert len(result.records) == 4
    assert answered and all(b["model"] == "answerer-model" for b in answered)
    assert all(re.search(r"(Input|Class label):$", b["messages"][0]["content"].rstrip()) for b in answered)
    assert all(b["model"] == "writer" for b in wrote)
    assert not any(re.search(r"(Input|Class label):$", b["messages"][0]["content"].rstrip()) for b in wrote)
    gen = result.lineage["generator"]
    assert gen["model"] == "writer" and gen["response"]["model"] == "answerer-model"
    assert gen["response"]["endpoint_host"] == answerer.url.split("/")[2]


def test_under_alpaca_a_response_model_rewrites_every_output(test_data, tmp_path):
    with LoopbackServer(tasks_per_reply=4) as writer, \
            LoopbackServer(reply=lambda prompt: f"Answer to: {prompt.splitlines()[0]}") as answerer:
        cfg = GenerateConfig(num_instructions=6, model="writer", base_url=writer.url, seeds=str(test_data / "seeds_tiny.jsonl"),
                             concurrency=2, response_model="answerer-model", response_base_url=answerer.url)
        result = asyncio.run(generate(cfg, build_backend(cfg, api_key="k"), run_dir=tmp_path / "run",
                                      response_backend=build_backend(cfg.response_endpoint(), api_key="k")))
        asked = [r["body"]["messages"][0]["content"] for r in answerer.requests]
    assert len(result.records) == 6
    for record in result.records:
        assert record["output"] == f"Answer to: {record['instruction']}"
        prompt = record["instruction"] + (f"\n\n{record['input']}" if record["input"] else "")
        assert prompt in asked
    assert all(b["body"]["model"] == "answerer-model" for b in answerer.requests)
    assert result.lineage["generator"]["response"]["model"] == "answerer-model"
    assert "answer" in result.lineage["prompt"]["stages"]


@pytest.mark.slow
def test_kill_9_mid_stage_then_resume_resends_nothing_answered(test_data, tmp_path):
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "selfinstruct", "generate", "-n", "12", "--method", "self-instruct",
           "--model", "writer", "-o", str(out), "--seeds", str(test_data / "seeds_tiny.jsonl"), "--num-tasks", "3",
           "--concurrency", "2", "-q"]
    journal = tmp_path / "out.run" / "journal.jsonl"

    def stage_answered(stage):
        state = read_journal(journal)
        return sum(1 for r in state.responses if state.requests[r["id"]]["stage"] == stage)

    with LoopbackServer(latency_s=0.1, reply=responder()) as server:
        env = {**os.environ, "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.url, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 90
        while time.time() < deadline and (not journal.exists() or stage_answered("instances") < 2):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = read_journal(journal)
        assert stage_answered("classify") >= 2 and not out.exists()
        answered_prompts = {before.requests[r["id"]]["prompts"][0] for r in before.responses}
        first_hits = len(server.requests)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        resent = [r["body"]["messages"][0]["content"] for r in server.requests[first_hits:]]
    after = read_journal(journal)
    ids = [r["id"] for r in after.responses]
    assert len(ids) == len(set(ids)) and ids[: len(before.responses)] == [r["id"] for r in before.responses]
    assert not answered_prompts & set(resent)  # nothing already answered was asked again
    assert len(resent) == len(after.responses) - len(before.responses)
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(records) == 12 and len({r["instruction"] for r in records}) == 12


def test_the_papers_instance_filters():
    assert parse_instance(" Build a new home.\nOutput: Build a new home.", False) == (None, "output_copies_input")
    assert parse_instance(" Here is the list:\nOutput: apples", False) == (None, "field_ends_with_colon")
