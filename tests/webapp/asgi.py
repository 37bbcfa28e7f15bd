"""Call the web app's ASGI callable in-process (no server, no HTTP client): one request, one response."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str


def request(app, path: str, *, method: str = "GET", host: str = "127.0.0.1:8000", headers: dict | None = None,
            body: bytes = b"") -> Reply:
    """Send one request to `app` as a browser would reach it at `host`; return the collected reply."""
    path, _, query = path.partition("?")
    sent = {"host": host, **(headers or {})}
    if body:
        sent.setdefault("content-length", str(len(body)))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in sent.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    out: dict = {"status": None, "headers": {}, "body": b""}

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            for k, v in message.get("headers", []):
                key = k.decode("latin-1")
                out["headers"][key] = (out["headers"][key] + "\n" if key in out["headers"] else "") + v.decode("latin-1")
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return Reply(out["status"], out["headers"], out["body"].decode("utf-8", "replace"))
