"""selfinstruct chat, driven as a real terminal program through its stdin and stdout."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.chat import open_chat, read_message
from tests.evaluation.tiny_alpaca import tiny_alpaca
from tests.loopback_server import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_alpaca(tmp_path_factory)


def chat(args: list[str], stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8", "OPENAI_API_KEY": "sk-test"}
    return subprocess.run([sys.executable, "-m", "selfinstruct", "chat", *args], input=stdin, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.mark.slow  # a second process imports torch and transformers
def test_terminal_chat_with_a_local_model_streams_its_replies(model):
    session = open_chat(model=str(model), temperature=0.0, max_new_tokens=8)
    first = session.ask("Name a river.")
    follow_up = session.ask("Add the\nnumbers.")  # sent as two lines joined by a trailing backslash
    session.reset()
    assert session.ask("Name a river.") == first
    assert session.format.name == "alpaca"  # the template recorded with the model
    done = chat(["--model", str(model), "--temperature", "0", "--max-new-tokens", "8"],
                "Name a river.\nAdd the\\\nnumbers.\n/reset\nName a river.\n/exit\nnever sent\n")
    assert done.returncode == 0, done.stderr
    assert "prompt format: alpaca" in done.stdout
    replies = done.stdout.split("(conversation cleared)\n")
    assert first in replies[0] and follow_up in replies[0] and first in replies[1]
    assert follow_up != first or first == ""


def test_terminal_chat_with_an_endpoint_keeps_history_system_and_reset():
    with LoopbackServer(reply=lambda prompt: f"you said {prompt!r}, and that is all") as server:
        done = chat(["--base-url", server.url, "--model-name", "served", "--temperature", "0"],
                    '/system Be brief.\nhello\n"""\nfirst line\nsecond line\n"""\n/reset\nthird\n')
        bodies = [r["body"] for r in server.requests]
    assert done.returncode == 0, done.stderr
    assert "you said 'hello', and that is all\n" in done.stdout  # streamed in several chunks, then joined
    assert "you said 'first line\\nsecond line', and that is all" in done.stdout
    assert all(b["stream"] is True and b["model"] == "served" for b in bodies)
    system = {"role": "system", "content": "Be brief."}
    assert bodies[0]["messages"] == [system, {"role": "user", "content": "hello"}]
    assert bodies[1]["messages"][1:3] == [{"role": "user", "content": "hello"},
                                          {"role": "assistant", "content": "you said 'hello', and that is all"}]
    assert bodies[2]["messages"] == [system, {"role": "user", "content": "third"}]  # after /reset


def test_multi_line_input_rules():
    def reader(lines):
        it = iter(lines)
        return lambda prompt: next(it, None)

    assert read_message(reader(["one \\", "two", "three"])) == "one \ntwo"
    assert read_message(reader(['"""', "a", "", "b", '"""'])) == "a\n\nb"
    assert read_message(reader([])) is None


def test_a_chat_template_model_gets_role_messages_in_chat_and_answers(model, tmp_path):
    import asyncio
    import shutil

    from modelcalls.backends.base import Decoding
    from modelcalls.backends.transformers_backend import TransformersBackend

    chatty = tmp_path / "chatty"
    shutil.copytree(model, chatty)
    (chatty / "prompt_template.yaml").unlink()  # not fine-tuned here: its chat template decides
    backend = TransformersBackend(str(chatty))
    backend.tokenizer.chat_template = ("{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"
                                       "{% if add_generation_prompt %}<assistant>{% endif %}")
    backend.tokenizer.save_pretrained(chatty)
    session = open_chat(model=str(chatty), temperature=0.0, max_new_tokens=6)
    assert session.format.kind == "chat"
    reply = session.ask("Name a river.")
    answered = asyncio.run(TransformersBackend(str(chatty)).complete(["Name a river."], Decoding(0.0, max_tokens=6)))
    assert answered.completions[0].text == reply  # eval answer and chat prompt a chat model the same way
    assert session._backend.render_chat([{"role": "system", "content": "S"}]).startswith("<system>S")


def test_forked_sessions_share_the_endpoint_but_not_the_conversation():
    with LoopbackServer(reply=lambda prompt: f"re: {prompt}") as server:
        first = open_chat(base_url=server.url, model_name="served", temperature=0.0, system="Be brief.")
        second = first.fork()
        assert first.ask("hello") == "re: hello"
        assert second.ask("other") == "re: other"
        bodies = [r["body"] for r in server.requests]
    assert second.name == first.name == "served" and second.format is first.format
    assert second.system is None and [m for m, _ in first.history] == ["hello"]
    assert bodies[1]["messages"] == [{"role": "user", "content": "other"}]  # nothing of the first conversation
