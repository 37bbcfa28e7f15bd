"""eval answer: a real tiny model in-process (batched == one at a time), an endpoint with resume."""

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

from evaluation.answer import AnswerConfig, answer, load_instructions, open_backend
from evaluation.prompt_format import resolve_format, user_message
from commands.main import cli
from modelcalls.journal import read_journal
from tests.evaluation.tiny_alpaca import tiny_alpaca
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
TASKS = [("Grammarly", "Rewrite the sentence to be shorter.", "If you have any questions, let me know."),
         ("Google Search", "Name a river in Africa.", ""),
         ("Calculator", "Add the two numbers.", "2 and 40"),
         ("Cooking", "Explain how long to boil an egg.", ""),
         ("Translate", "Translate the sentence into French.", "The river is long."),
         ("Math", "Add the numbers and explain the result.", "3, 4 and 5"),
         ("Geography", "Name the longest river.", "")]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_alpaca(tmp_path_factory)


def user_oriented_set(path: Path, n: int = len(TASKS)) -> Path:
    """A set in Self-Instruct's user-oriented format (instructions made distinct past the first round)."""
    rows = [{"id": f"t{i}", "motivation_app": app, "instruction": inst if i < len(TASKS) else f"{inst} ({i})",
             "instances": [{"input": inp, "output": ""}]} for i, (app, inst, inp) in enumerate((TASKS * 3)[:n])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_answer(cfg, set_path, run_dir):
    backend, fmt = open_backend(cfg)
    result = asyncio.run(answer(cfg, backend, fmt, load_instructions(set_path), run_dir=run_dir, set_path=set_path))
    return result, backend


def test_in_process_batched_answers_equal_one_at_a_time(model, tmp_path):
    set_path = user_oriented_set(tmp_path / "set.jsonl")
    batched, backend = run_answer(AnswerConfig(model=str(model), max_tokens=8, batch_size=4), set_path, tmp_path / "b")
    single, _ = run_answer(AnswerConfig(model=str(model), max_tokens=8, batch_size=1, concurrency=1), set_path,
                           tmp_path / "s")
    assert max(backend.batch_sizes) == 4 and sum(backend.batch_sizes) == len(TASKS)
    assert batched.outputs == single.outputs
    assert len({o["output"] for o in batched.outputs}) > 1
    first = batched.outputs[0]
    assert first["generator"] == model.name and first["dataset"] == "selfinstruct"
    assert first["input"] == TASKS[0][2] and first["motivation_app"] == "Grammarly"
    assert "input" not in batched.outputs[1]  # AlpacaEval's fields, input only when there is one
    # the model is prompted with the template recorded at training time, input included
    prompts = [r["prompts"][0] for r in read_journal(tmp_path / "b" / "journal.jsonl").requests.values()]
    assert all(p.startswith("Below is an instruction") for p in prompts)
    assert sum("### Input:\n" in p for p in prompts) == sum(1 for t in TASKS if t[2])
    assert batched.summary["prompt_format"]["name"] == "alpaca" and batched.usage.completion_tokens > 0


def _env():
    return {**os.environ, "OPENAI_API_KEY": "sk-test", "PYTHONPATH": str(ROOT)}


def test_endpoint_answers_resume_after_kill_9_without_resending(tmp_path):
    set_path = user_oriented_set(tmp_path / "set.jsonl", n=16)
    out = tmp_path / "answers.json"
    journal = tmp_path / "answers.run" / "journal.jsonl"
    with LoopbackServer(latency_s=0.1, reply=lambda prompt: f"answer to: {prompt}") as server:
        args = ["eval", "answer", "--model", "loopback-model", "--base-url", server.url, "--set", str(set_path),
                "-o", str(out), "--concurrency", "2", "-q"]
        proc = subprocess.Popen([sys.executable, "-m", "selfinstruct", *args], env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and (not journal.exists() or len(read_journal(journal).responses) < 3):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = read_journal(journal)
        answered_first = {before.requests[r["id"]]["prompts"][0] for r in before.responses}
        assert 3 <= len(answered_first) < 16 and not out.exists()
        first_hits = len(server.requests)
        result = CliRunner().invoke(cli, args, env={"OPENAI_API_KEY": "sk-test"})
        assert result.exit_code == 0, result.output
        resent = [r["body"]["messages"][-1]["content"] for r in server.requests[first_hits:]]
    items = load_instructions(set_path)
    prompts = [user_message(i["instruction"], i["input"]) for i in items]
    assert not set(resent) & answered_first  # nothing answered was asked again
    assert sorted(resent) == sorted(set(prompts) - answered_first)  # the rest, each once
    outputs = json.loads(out.read_text())
    assert [o["output"] for o in outputs] == [f"answer to: {p}" for p in prompts]
    assert all(o["generator"] == "loopback-model" for o in outputs)
    assert load_instructions(out) == items  # answers read back as a set: same instructions, inputs, datasets


@pytest.mark.parametrize("content, where", [
    ('{"instruction": "a"}\n{"instruction": "b"}\n{"instruction": \n', "set.jsonl:3"),
    ('{"instruction": "a"}\n{"dataset": "x"}\n', "set.jsonl:2: field 'instruction'"),
])
def test_bad_set_exits_2_naming_file_line_and_field(tmp_path, content, where):
    (tmp_path / "set.jsonl").write_text(content)
    result = CliRunner().invoke(cli, ["eval", "answer", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
                                      "--set", str(tmp_path / "set.jsonl"), "-o", str(tmp_path / "o.json")])
    assert result.exit_code == 2 and where in result.output and "Traceback" not in result.output


def test_prompt_format_precedence(tmp_path):
    (tmp_path / "finetune_config.yaml").write_text("template: alpaca\n")
    assert resolve_format(str(tmp_path), has_chat_template=True).name == "alpaca"
    (tmp_path / "prompt_template.yaml").write_text(
        'name: mine\nwith_input: "Q: {instruction}\\n{input}\\nA:"\nwithout_input: "Q: {instruction}\\nA:"\n')
    recorded = resolve_format(str(tmp_path), has_chat_template=True)
    assert recorded.name == "mine" and recorded.render("Sum", "1 2") == "Q: Sum\n1 2\nA:"
    assert resolve_format(str(tmp_path), "plain", has_chat_template=True).render("Sum", "1 2") == "Sum\n\n1 2"
    assert resolve_format(str(tmp_path / "elsewhere"), has_chat_template=True).kind == "chat"
    assert resolve_format(str(tmp_path / "elsewhere"), has_chat_template=False).kind == "plain"


def test_answers_of_a_model_fine_tuned_on_a_version_are_recorded_for_compare(model, tmp_path):
    import shutil

    import polars as pl

    import registry
    from registry.evaluations import trained_models
    from tests.evaluation.test_lineage import finetuned_model

    root = str(tmp_path / "registry")
    frame = pl.DataFrame({"instruction": ["a", "b"], "input": ["", ""], "output": ["x", "y"]})
    registry.commit(frame, name="ds", lineage={"operation": "import"}, root=root)
    folder = finetuned_model(tmp_path, "ds@1", root, "m")
    for f in model.iterdir():
        if f.name != "README.md":
            shutil.copy(f, folder / f.name)
    set_path = user_oriented_set(tmp_path / "set.jsonl", 2)
    result = CliRunner().invoke(cli, ["eval", "answer", "--model", str(folder), "--set", str(set_path), "-q",
                                      "-o", str(tmp_path / "a.json"), "--max-new-tokens", "2", "--registry", root])
    assert result.exit_code == 0, result.output
    assert "recorded the answers against ds@1" in result.output
    (trained,) = trained_models(registry.resolve("ds@1", root=root), root=root)
    assert [(a["answers"], a["set_name"], a["items"]) for a in trained["answers"]] == [
        (str((tmp_path / "a.json").resolve()), "set", 2)]
