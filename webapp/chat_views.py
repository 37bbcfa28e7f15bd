"""The chat page: streamed replies as server-sent events over a POST (read by fetch in app.js)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from webapp.security import read_form

MAX_MESSAGE = 8000


def routes(app) -> list[Route]:
    chat = app.chat

    def owner_only(request):
        if request.state.role != "owner":
            raise HTTPException(403, "forbidden: the chat page is for the server's owner")
        if not chat.configured:
            raise HTTPException(404, "no model to chat with: start the server with --chat-model PATH or "
                                     "--chat-endpoint URL")

    def page(request):
        owner_only(request)
        try:
            base = chat.base()
            session = chat.session(request.state.session)
        except Exception as e:  # noqa: BLE001 - a model that cannot load is shown, not a traceback
            raise HTTPException(503, f"cannot open the chat model: {e}") from None
        return app.page(request, "chat.html", name=base.name, fmt=base.format, history=session.history,
                        trained_on=chat.trained_on(app.store), max_new_tokens=base.decoding.max_tokens)

    async def send(request):
        owner_only(request)
        form = await read_form(request, max_files=0)
        message = str(form.get("message") or "").strip()[:MAX_MESSAGE]
        if not message:
            raise HTTPException(400, "empty message")
        session = chat.session(request.state.session)

        def events():
            try:
                for piece in session.stream(message):
                    yield f"data: {json.dumps({'text': piece})}\n\n"
                yield "event: done\ndata: {}\n\n"
            except Exception as e:  # noqa: BLE001 - the page shows the error in place of the reply
                yield f"event: error\ndata: {json.dumps({'error': str(e)})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-store"})

    async def reset(request):
        owner_only(request)
        await read_form(request, max_files=0)
        chat.session(request.state.session).reset()
        return JSONResponse({"ok": True})

    return [Route("/chat", page), Route("/chat/send", send, methods=["POST"]),
            Route("/chat/reset", reset, methods=["POST"])]
