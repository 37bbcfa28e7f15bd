"""Request guard: access token, Host check, request size bound, session cookie and CSRF tokens.

One ASGI middleware in front of every route:
- Bound to a loopback address, requests must name a loopback Host: exactly `localhost`, an IPv4
  literal in 127.0.0.0/8 or `[::1]`, each with an optional port (a DNS-rebinding page, whose Host
  is its own name, cannot reach the app). With a token (required off loopback), every request carries it as a cookie, an
  `Authorization: Bearer` or `X-Token` header, or once as `?token=`, which sets the cookie and
  redirects to the same URL without it. A rater link (`/rate/<study key>/...`) admits its own
  study's pages only.
- Bodies over `max_body` bytes are refused (413), by Content-Length or while streaming.
- POST, PUT, PATCH and DELETE need a same-origin Origin (or Referer) header; handlers read forms
  through `read_form`, which checks the per-session CSRF token (an HMAC of the session cookie).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

SESSION_COOKIE = "si_session"
TOKEN_COOKIE = "si_token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_RATER_PATH = re.compile(r"^/rate/([A-Za-z0-9_-]{16,64})(/|$)")


class BodyTooLarge(Exception):
    pass


# A Host header is `name[:port]` or `[ipv6][:port]`; anything else (userinfo, a path, two ports) is refused.
_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?")


def is_loopback(host: str) -> bool:
    """True for exactly `localhost` or an IP literal in the loopback range (127.0.0.0/8, ::1), without a port.

    `127.evil.com` and `127.0.0.1.nip.io` are names that any DNS server may point anywhere: refused.
    """
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_host_header(header: str) -> bool:
    """True when a Host header (`host[:port]`) names this machine; see is_loopback."""
    m = _HOST_HEADER.fullmatch(header)
    if m is None or (m.group(2) is not None and int(m.group(2)) > 65535):
        return False
    return is_loopback(m.group(1))


def csrf_token(secret: bytes, session: str) -> str:
    return hmac.new(secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()[:40]


class Guard:
    """ASGI middleware; `rater_key_ok(key)` says whether a rater link key names an open study."""

    def __init__(self, app, *, secret: bytes, token: str | None, loopback_only: bool, max_body: int,
                 rater_key_ok=lambda key: False):
        self.app, self.secret, self.token = app, secret, token
        self.loopback_only, self.max_body, self.rater_key_ok = loopback_only, max_body, rater_key_ok

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = _cookies(headers.get("cookie", ""))
        host = headers.get("host", "")
        if self.loopback_only and not is_loopback_host_header(host):
            return await _plain(send, 403, "forbidden: this server answers only to a loopback Host")
        role = await self._role(scope, headers, cookies, send)
        if role is None:
            return None  # answered already (refused, or redirected after setting the token cookie)
        method = scope["method"]
        if method in UNSAFE_METHODS and not _same_origin(headers, host):
            return await _plain(send, 403, "forbidden: cross-origin request (Origin does not match Host)")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _plain(send, 413, f"request body over {self.max_body:,} bytes")
        session = cookies.get(SESSION_COOKIE)
        new_session = None
        if not session or not re.fullmatch(r"[0-9a-f]{32}", session):
            session = new_session = secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state.update(role=role, session=session, csrf=csrf_token(self.secret, session))

        seen = 0

        async def bounded_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge
            return message

        started = False

        async def send_with_cookie(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            if message["type"] == "http.response.start" and new_session:
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], _set_cookie(SESSION_COOKIE, new_session)]
            await send(message)

        try:
            await self.app(scope, bounded_receive, send_with_cookie)
        except BodyTooLarge:
            if not started:
                await _plain(send, 413, f"request body over {self.max_body:,} bytes")

    async def _role(self, scope, headers, cookies, send) -> str | None:
        """'owner' or 'rater' for an admitted request; None after answering a refused one."""
        path = scope["path"]
        if path.startswith("/static/"):
            return "public"
        if self.token is None:
            return "owner"
        m = _RATER_PATH.match(path)
        if m and self.rater_key_ok(m.group(1)):
            return "rater"
        offered = [cookies.get(TOKEN_COOKIE, ""), headers.get("x-token", "")]
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        if any(o and hmac.compare_digest(o.encode(), self.token.encode()) for o in offered):
            return "owner"
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = dict(query).get("token")
        if given and hmac.compare_digest(given.encode(), self.token.encode()):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", (path + ("?" + rest if rest else "")).encode("latin-1")),
                _set_cookie(TOKEN_COOKIE, self.token), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return None
        await _plain(send, 401, "unauthorized: this server needs its access token (open the URL it printed)")
        return None


async def read_form(request: Request, *, max_files: int = 4) -> FormData:
    """The request's form after checking its CSRF token against this session's (403 otherwise)."""
    try:
        form = await request.form(max_files=max_files, max_fields=200)
    except BodyTooLarge:
        raise HTTPException(413, "request body too large") from None
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), request.state.csrf.encode()):
        raise HTTPException(403, "forbidden: missing or stale form token; reload the page and try again")
    return form


def _same_origin(headers: dict, host: str) -> bool:
    origin = headers.get("origin") or headers.get("referer")
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == host.lower()


def _cookies(raw: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header counts as none
        return {}
    return {k: m.value for k, m in jar.items()}


def _set_cookie(name: str, value: str) -> tuple[bytes, bytes]:
    return b"set-cookie", f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode()


async def _plain(send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
