"""Call the web app's ASGI callable in-process (no server, no HTTP client): one request, one response."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode


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


class Client:
    """One browser against `app`: keeps its cookies, sends same-origin POSTs with the page's form token."""

    def __init__(self, app, host: str = "127.0.0.1:8000"):
        self.app, self.host, self.cookies = app, host, {}

    def get(self, path: str) -> Reply:
        return self._keep(request(self.app, path, host=self.host, headers=self._cookie_header()))

    def post(self, path: str, form: dict, *, token_from: str) -> Reply:
        """POST `form` as the page at `token_from` would submit it (its CSRF token added)."""
        page = self.get(token_from).text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        body = urlencode({**form, "csrf_token": token}).encode()
        headers = {**self._cookie_header(), "origin": f"http://{self.host}",
                   "content-type": "application/x-www-form-urlencoded"}
        return self._keep(request(self.app, path, method="POST", host=self.host, headers=headers, body=body))

    def _cookie_header(self) -> dict:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep(self, reply: Reply) -> Reply:
        for line in reply.headers.get("set-cookie", "").splitlines():
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return reply
