"""A loopback HTTP server that speaks OpenAI's Chat Completions and Completions APIs.

Tests and benchmarks drive it through the real `openai` client. Replies are synthetic tasks in the
numbered format, distinct enough that most survive dedup. A script of faults (429 with
Retry-After, 500, 401, 404, dropped connections, hangs, stalls, cut replies, garbage, flood: a reply
that ignores max_tokens) is consumed one entry per request, in order. `reply=f` answers each prompt
(the last message's content) with `f(prompt)` instead, and `"stream": true` requests get server-sent
events, a few words per chunk.

    with LoopbackServer(latency_s=0.2) as server:
        client = OpenAI(base_url=server.url, api_key="test")
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ("river mountain budget recipe contract planet virus poem ladder engine garden novel election harbor "
         "glacier invoice sonnet algorithm bicycle volcano museum orchestra cactus tax theorem battery desert "
         "festival compass vaccine rocket library marathon tomato satellite pigeon bridge dialect kettle "
         "microscope insurance violin canyon mortgage tornado puzzle lantern opera fossil chess parliament "
         "telescope yogurt coral diesel chimney sermon lagoon ferry quartz tariff walrus meadow pension").split()
VERBS = ("Explain", "Describe", "Summarize", "Compare", "List", "Classify", "Rewrite", "Suggest", "Outline", "Evaluate")
FRAMES = ("Explain how {a} and {b} differ for a {c} owner.", "List three ways a {a} can improve a {b}.",
          "Write a short note about the {a} near the {b} and its {c}.", "Classify the {a} as {b} or {c}.",
          "Suggest a name for a {a} shop that sells {b} and {c}.", "Compare a {a} with a {b} in two sentences.",
          "Describe the history of the {a} in {b} country and its {c}.", "Summarize why a {a} needs a {b}.")


def synthetic_reply(first_index: int, num_tasks: int, rng: random.Random, diverse: bool = False) -> str:
    """`num_tasks` numbered tasks starting at `first_index`, as a completions model would continue.

    Default replies reuse a few sentence frames, so dedup drops many (as with a real model late in a
    run); `diverse` replies are mostly distinct, for throughput measurements.
    """
    parts = []
    for i in range(first_index, first_index + num_tasks):
        a, b, c = rng.sample(WORDS, 3)
        if diverse:
            inst = f"{rng.choice(VERBS)} the " + " ".join(rng.sample(WORDS, 7)) + "."
        else:
            inst = rng.choice(FRAMES).format(a=a, b=b, c=c)
        inp = "<noinput>" if rng.random() < 0.6 else f"The {a} was {rng.randint(2, 99)} years old."
        out = f"A {a} relates to a {b} through {c}; {rng.randint(1, 1000)} examples show it."
        parts.append(f"{i}. Instruction: {inst}\n{i}. Input:\n{inp}\n{i}. Output:\n{out}\n###\n")
    text = "".join(parts)
    return text[len(f"{first_index}. Instruction:"):]  # the prompt already ends with this label


def numbered_reply(prompt: str, num_tasks: int = 8) -> str:
    """`synthetic_reply` as a function of the prompt alone (its last "N. Instruction:" label and a
    hash of its text), for `reply=`: the same prompt gets the same tasks in whatever order requests
    arrive, synchronously or in a batch."""
    labels = re.findall(r"(\d+)\. Instruction:", prompt)
    rng = random.Random(hashlib.sha256(prompt.encode()).hexdigest())
    return synthetic_reply(int(labels[-1]) if labels else 1, num_tasks, rng)


def records_reply(first_index: int, records: list[dict]) -> str:
    """Given records rendered as a reply that continues a prompt ending in "N. Instruction:"."""
    parts = []
    for i, r in enumerate(records, start=first_index):
        parts.append(f"{i}. Instruction: {r['instruction']}\n{i}. Input:\n{r.get('input') or '<noinput>'}\n"
                     f"{i}. Output:\n{r['output']}\n###\n")
    return "".join(parts)[len(f"{first_index}. Instruction:"):]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 refuses bursts of new connections


class LoopbackServer:
    """Context manager running the server on 127.0.0.1 in a background thread."""

    def __init__(self, *, latency_s: float = 0.0, tasks_per_reply: int = 8, script=(), seed: int = 0,
                 diverse: bool = False, port: int = 0, records: list[dict] | None = None, reply=None):
        self.latency_s, self.tasks_per_reply, self.diverse = latency_s, tasks_per_reply, diverse
        self.records = records  # when given, replies serve these (e.g. real Alpaca tasks) in order, cycling
        self.reply = reply  # when given, reply(prompt) -> the reply text (scripted answers per prompt kind)
        self._next_record = 0
        self.script = deque(script)
        self.requests: list[dict] = []  # every request: path, headers, body
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_action(self) -> str:
        with self._lock:
            return self.script.popleft() if self.script else "ok"

    def _reply(self, prompt: str, max_tokens: int, action: str) -> tuple[str, str]:
        labels = re.findall(r"(\d+)\. Instruction:", prompt)
        first = int(labels[-1]) if labels else 1
        with self._lock:
            if self.reply is not None:
                text = self.reply(prompt)
            elif self.records:
                batch = [self.records[(self._next_record + i) % len(self.records)] for i in range(self.tasks_per_reply)]
                self._next_record += self.tasks_per_reply
                text = records_reply(first, batch)
            else:
                text = synthetic_reply(first, self.tasks_per_reply, self._rng, self.diverse)
        if action == "surrogate":  # JSON may carry a lone surrogate escape, which UTF-8 cannot encode
            text = text.replace("Input:", "Input \ud800:", 1)
        if action == "garbage":
            return "I would rather talk about something else.", "stop"
        if action == "flood":  # a broken server that ignores max_tokens and sends megabytes
            return text, "stop"
        if action == "cut" or len(text) // 4 > max_tokens:
            return text[: max(10, min(len(text) * 2 // 3, max_tokens * 4))], "length"
        return text, "stop"

    def choices(self, route: str, body: dict, action: str) -> tuple[str, list[dict], int] | None:
        """(object type, choices, prompt characters) of a chat or completions request; None for another route."""
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 4096
        if route.endswith("/chat/completions"):
            text, finish = self._reply(body["messages"][-1]["content"], max_tokens, action)
            choices = [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}]
            return "chat.completion", choices, len(body["messages"][-1]["content"])
        if route.endswith("/completions"):
            prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
            choices = []
            for i, p in enumerate(prompts):
                text, finish = self._reply(p, max_tokens, action)
                choices.append({"index": i, "text": text, "finish_reason": finish, "logprobs": None})
            return "text_completion", choices, sum(len(p) for p in prompts)
        return None

    @staticmethod
    def completion(obj: str, model: str, choices: list[dict], prompt_chars: int) -> dict:
        """A reply's JSON body, with usage counted as characters / 4."""
        completion_chars = sum(len(c.get("text") or c.get("message", {}).get("content", "")) for c in choices)
        return {"id": "cmpl-loopback", "object": obj, "created": int(time.time()), "model": model, "choices": choices,
                "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": completion_chars // 4,
                          "total_tokens": (prompt_chars + completion_chars) // 4}}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-request (the resume tests do this on purpose)

            def _stream(self, obj: str, model: str, choices: list[dict]):
                """The reply as server-sent events: a few words per chunk, then the finish reason and [DONE]."""
                chat = obj == "chat.completion"
                events = []
                for choice in choices:
                    text = choice["message"]["content"] if chat else choice["text"]
                    words = re.findall(r"\S+\s*|\s+", text)
                    pieces = ["".join(words[k:k + 3]) for k in range(0, len(words), 3)]
                    for piece in pieces + [None]:
                        finish = None if piece is not None else choice["finish_reason"]
                        delta = {"content": piece or ""} if chat else None
                        events.append({"id": "cmpl-loopback", "object": obj + ".chunk" if chat else obj,
                                       "created": int(time.time()), "model": model,
                                       "choices": [{"index": choice["index"], "finish_reason": finish,
                                                    **({"delta": delta} if chat else {"text": piece or ""})}]})
                data = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + b"data: [DONE]\n\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the client died between headers and body: no request arrived
                    self.close_connection = True
                    return
                body = json.loads(raw or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                action = server._next_action()
                if server.latency_s:
                    time.sleep(server.latency_s)
                if action == "429":
                    return self._send(429, {"error": {"message": "slow down", "type": "rate_limit", "code": None}},
                                      {"Retry-After": "1"})
                if action == "500":
                    return self._send(500, {"error": {"message": "boom", "type": "server_error"}})
                if action == "401":
                    return self._send(401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error",
                                                      "code": "invalid_api_key"}})
                if action == "404":
                    return self._send(404, {"error": {"message": "model not found", "code": "model_not_found"}})
                if action == "drop":  # a broken connection: close without answering
                    self.close_connection = True
                    return
                if action in ("truncated", "html", "no_choices"):  # a 200 whose body is unusable
                    if action == "no_choices":
                        return self._send(200, {"id": "x", "object": "chat.completion", "created": 0,
                                                "model": "m", "choices": []})
                    data = b'{"id": "x", "choices": [{"ind' if action == "truncated" else b"<html><body>502</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json" if action == "truncated" else "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if action == "hang":
                    time.sleep(3)  # longer than the client's timeout in the tests that script it
                if action == "stall":  # never answer: the client waits until it is killed
                    time.sleep(3600)
                    return
                route = self.path.partition("?")[0]
                answered = server.choices(route, body, action)
                if answered is None:
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                obj, choices, prompt_chars = answered
                if body.get("stream"):
                    return self._stream(obj, body.get("model", "loopback"), choices)
                self._send(200, server.completion(obj, body.get("model", "loopback"), choices, prompt_chars))

        return Handler


if __name__ == "__main__":  # a standalone server for benchmarks: prints its URL, serves until killed
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-s", type=float, default=0.2)
    parser.add_argument("--tasks-per-reply", type=int, default=20)
    parser.add_argument("--records", help="JSONL of instruction/input/output records to serve, shuffled")
    args = parser.parse_args()
    served = None
    if args.records:
        with open(args.records, encoding="utf-8") as f:
            served = [json.loads(line) for line in f if line.strip()]
        random.Random(0).shuffle(served)
    with LoopbackServer(latency_s=args.latency_s, tasks_per_reply=args.tasks_per_reply, diverse=True,
                        records=served) as srv:
        print(srv.url, flush=True)
        threading.Event().wait()
