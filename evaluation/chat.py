"""Chat with a model: streamed replies in its training prompt format, a local checkpoint or an endpoint.

    session = open_chat(model="runs/alpaca-tiny")          # or base_url="http://localhost:8000/v1"
    for piece in session.stream("Name three rivers in Africa."):
        print(piece, end="", flush=True)
    session.system = "Answer in one sentence."
    session.reset()
    other = session.fork()                                  # another conversation, the same loaded model

`run_terminal` is the `selfinstruct chat` program on top of a session.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Iterator, TextIO

from evaluation.context import context_length, prompt_tokens
from evaluation.prompt_format import PromptFormat, resolve_format
from modelcalls.backends.base import Decoding
from modelcalls.endpoint import Endpoint, build_backend
from modelcalls.errors import ConfigError

log = logging.getLogger(__name__)

HELP = """\
Enter sends a message. End a line with \\ to continue on the next line, or start a block with a
line of three double quotes (\"\"\") and end it with another. Commands:
  /system TEXT   set the system text (/system alone clears it); the conversation is kept
  /reset         forget the conversation (the system text stays)
  /exit          leave (Ctrl-D does the same; Ctrl-C stops a reply)"""


class ChatSession:
    """A conversation with one model. `stream` yields the reply in pieces and remembers the turn."""

    def __init__(self, backend, fmt: PromptFormat, *, system: str | None, decoding: Decoding, name: str):
        self._backend, self.format, self.decoding, self.name = backend, fmt, decoding, name
        self.system = system
        self.history: list[tuple[str, str]] = []  # (message, reply) pairs
        self._trimmed = False  # whether the conversation outgrew a local model's context (said once)

    def stream(self, message: str) -> Iterator[str]:
        prompt = self._fitting_prompt(message)
        pieces: list[str] = []
        try:
            for piece in self._backend.stream(prompt, self.decoding):
                pieces.append(piece)
                yield piece
        finally:  # a reply stopped early is kept as far as it went
            self.history.append((message, "".join(pieces)))

    def _prompt(self, history: list, message: str):
        # A chat template takes the turns as messages; a training template is rendered to one text here.
        if self.format.kind == "chat":
            return _messages(history, message, self.system)
        return self.format.render_conversation(history, message, self.system)

    def _fitting_prompt(self, message: str):
        """The conversation's prompt; with a local model, without its oldest turns while it is longer
        than the model's context (said once per session)."""
        limit = context_length(self._backend)
        history, prompt = self.history, self._prompt(self.history, message)
        while limit and history and prompt_tokens(self._backend, prompt) > limit:
            history = history[1:]
            prompt = self._prompt(history, message)
        if len(history) < len(self.history) and not self._trimmed:
            self._trimmed = True
            log.warning("the conversation is longer than %s's context of %d tokens: its oldest turns are left out "
                        "of the prompt (/reset starts afresh)", self.name, limit)
        return prompt

    def ask(self, message: str) -> str:
        return "".join(self.stream(message))

    def reset(self) -> None:
        self.history.clear()

    def fork(self, *, system: str | None = None) -> "ChatSession":
        """A new conversation with the same model, prompt format and decoding: many sessions
        (one per user of a web app, say) share one loaded model."""
        return ChatSession(self._backend, self.format, system=system, decoding=self.decoding, name=self.name)


def open_chat(model: str | None = None, base_url: str | None = None, model_name: str | None = None,
              template: str | None = None, system: str | None = None, max_new_tokens: int = 512, *,
              temperature: float = 0.7, top_p: float = 1.0, seed: int | None = None,
              api_key: str | None = None) -> ChatSession:
    """A session with a local checkpoint (`model`, a path) or an OpenAI-compatible endpoint
    (`base_url`, serving `model_name`). The prompt format is resolved as for `eval answer`; replies
    come from the request layer's backends (`Backend.stream`), with their retries and limits."""
    if bool(model) == bool(base_url):
        raise ValueError("give either model (a local checkpoint) or base_url (an endpoint), not both or neither")
    decoding = Decoding(temperature, top_p, max_new_tokens, (), seed)
    if model:
        # completions: the backend applies no template of its own; the session renders the turns
        backend = build_backend(Endpoint(model=model, backend="transformers", api="completions"))
        fmt = resolve_format(model, template, has_chat_template=backend.has_chat_template)
        if fmt.kind == "chat" and not backend.has_chat_template:
            raise ConfigError(f"{model}: --template chat, but the tokenizer has no chat template")
        return ChatSession(backend, fmt, system=system, decoding=_with_stops(decoding, fmt), name=model)
    fmt = resolve_format(None, template, has_chat_template=True)
    # chat messages through Chat Completions; a training template's text through the completions API
    endpoint = Endpoint(model=model_name or "default", base_url=base_url,
                        api="chat" if fmt.kind == "chat" else "completions", concurrency=1)
    backend = build_backend(endpoint, api_key=api_key or os.environ.get("OPENAI_API_KEY"))
    if not model_name:
        backend.model = backend.served_model() or "default"  # local servers serve one model
    return ChatSession(backend, fmt, system=system, decoding=_with_stops(decoding, fmt), name=backend.model)


def _with_stops(decoding: Decoding, fmt: PromptFormat) -> Decoding:
    """With a training template, stop where the model would start the next turn by itself."""
    if fmt.template is None:
        return decoding
    lead = fmt.template.without_input.split("{instruction}")[0].strip().splitlines()
    if not lead:
        return decoding
    return Decoding(decoding.temperature, decoding.top_p, decoding.max_tokens, (lead[-1],), decoding.seed)


def _messages(history, message: str, system: str | None) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    for user, reply in history:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return messages + [{"role": "user", "content": message}]


def read_message(readline, prompt: str = "") -> str | None:
    """One message from the user; None at end of input. A line ending in a backslash continues
    on the next line; a line of three double quotes opens a block that another one closes."""
    first = readline(prompt)
    if first is None:
        return None
    if first.strip() == '"""':
        lines = []
        while (line := readline("")) is not None and line.strip() != '"""':
            lines.append(line)
        return "\n".join(lines)
    lines = [first]
    while lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
        more = readline("")
        if more is None:
            break
        lines.append(more)
    return "\n".join(lines)


def run_terminal(session: ChatSession, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """The interactive loop: read a message or a command, stream the reply."""
    interactive = stdin.isatty() and stdout.isatty()

    def readline(prompt: str) -> str | None:
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = stdin.readline()
        return None if line == "" else line.rstrip("\n")

    stdout.write(f"chatting with {session.name} (prompt format: {session.format.name}); /help for commands\n")
    stdout.flush()
    while True:
        try:
            message = read_message(readline, "you> " if interactive else "")
        except KeyboardInterrupt:
            message = None
        if message is None:
            break
        command, _, rest = message.strip().partition(" ")
        if command in ("/exit", "/quit"):
            break
        if command == "/help":
            stdout.write(HELP + "\n")
        elif command == "/reset":
            session.reset()
            stdout.write("(conversation cleared)\n")
        elif command == "/system":
            session.system = rest.strip() or None
            stdout.write(f"(system: {session.system})\n" if session.system else "(system text cleared)\n")
        elif message.strip():
            replies = session.stream(message)
            try:
                for piece in replies:
                    stdout.write(piece)
                    stdout.flush()
            except KeyboardInterrupt:
                replies.close()
                stdout.write(" [stopped]")
            stdout.write("\n")
        stdout.flush()
