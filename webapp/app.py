"""The Starlette application: routes, templates, error pages, and the request guard around them."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from registry.errors import RegistryError
from registry.versions import as_store
from records.errors import InputError
from webapp.security import Guard
from webapp.studies import Studies

HERE = Path(__file__).parent
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else v
    env.filters["pct"] = lambda v: "n/a" if v is None else f"{100 * v:.1f}%"
    env.filters["fixed"] = lambda v, d=3: "n/a" if v is None else f"{v:.{d}f}"
    for name in env.list_templates():  # compiled now, at start-up, so that no first page pays for it
        env.get_template(name)
    return env


class App:
    """What the views share: the registry store, the studies database, and the template environment."""

    def __init__(self, registry_root, studies_path, *, token: str | None, chat=None):
        from webapp.chat import ChatService

        self.chat = chat or ChatService()
        self.store = as_store(registry_root)
        self.studies = Studies(studies_path)
        self.token = token
        self.env = templates()

    def page(self, request, template: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("owner", request.state.role == "owner")
        context.setdefault("chat_enabled", self.chat.configured)
        html = self.env.get_template(template).render(request=request, csrf=request.state.csrf, **context)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def create_app(registry_root=None, studies_path=None, *, token: str | None = None, loopback_only: bool = True,
               max_body: int = DEFAULT_MAX_BODY, chat=None):
    """The ASGI app. `token`: required on every request (rater links excepted); `loopback_only`:
    refuse a Host that is not loopback (set False when serving other machines, with a token);
    `chat`: a webapp.chat.ChatService naming the model of the chat page."""
    from registry.fs import default_root
    from webapp import browse_views, chat_views, study_views

    if studies_path is None:
        root = registry_root or default_root()
        studies_path = (Path(root).parent if "://" not in str(root) else Path.home()) / "studies.sqlite"
    state = App(registry_root, studies_path, token=token, chat=chat)
    # The diff's near-duplicate stage needs datasketch, whose import takes about half a second: load it
    # now, before the server answers, so the first diff page does not pay for it. (Loaded in a thread
    # instead, it held the interpreter against the first requests.)
    importlib.import_module("datasketch")

    async def not_found(request, exc):
        return error_page(request, 404, "not found")

    async def http_error(request, exc: HTTPException):
        return error_page(request, exc.status_code, exc.detail)

    async def bad_ref(request, exc: RegistryError):
        return error_page(request, 404, str(exc))

    async def bad_input(request, exc: InputError):
        return error_page(request, 400, str(exc))

    def error_page(request, status, message):
        if not hasattr(request.state, "csrf"):
            return HTMLResponse(message, status_code=status)
        return state.page(request, "error.html", status=status, status_code=status, message=message)

    routes = [*browse_views.routes(state), *study_views.routes(state), *chat_views.routes(state),
              Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    app = Starlette(routes=routes, exception_handlers={404: not_found, HTTPException: http_error,
                                                       RegistryError: bad_ref, InputError: bad_input})
    app.state.app = state
    return Timing(Guard(app, secret=state.studies.server_secret(), token=token, loopback_only=loopback_only,
                        max_body=max_body, rater_key_ok=lambda key: state.studies.by_key(key) is not None))


class Timing:
    """Adds `Server-Timing: app;dur=<ms>` (time to the response head) for the benchmark and the curious."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message["headers"] = [*message.get("headers", []), (b"server-timing", f"app;dur={ms:.1f}".encode())]
            await send(message)

        await self.app(scope, receive, timed_send)
