"""The chat page's model: one engine chosen when the server starts, one conversation per browser session.

The model (a checkpoint folder or an endpoint) comes from `selfinstruct serve --chat-model` or
`--chat-endpoint`, never from a request. It is opened on the first visit to the chat page.
"""

from __future__ import annotations

import threading
from pathlib import Path

from registry.errors import RegistryError
from registry.versions import readable_versions
from registry.uses import read_uses

MAX_SESSIONS = 200


class ChatService:
    def __init__(self, *, model: str | None = None, base_url: str | None = None, model_name: str | None = None,
                 template: str | None = None, max_new_tokens: int = 512):
        self.options = {"model": model, "base_url": base_url, "model_name": model_name, "template": template,
                        "max_new_tokens": max_new_tokens}
        self._base = None
        self._sessions: dict[str, object] = {}
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.options["model"] or self.options["base_url"])

    def base(self):
        with self._lock:
            if self._base is None:
                from evaluation.chat import open_chat

                self._base = open_chat(**self.options)
            return self._base

    def session(self, key: str):
        """This browser session's conversation (sharing the one loaded model)."""
        base = self.base()
        with self._lock:
            if key not in self._sessions:
                if len(self._sessions) >= MAX_SESSIONS:
                    self._sessions.pop(next(iter(self._sessions)))
                self._sessions[key] = base.fork()
            return self._sessions[key]

    def trained_on(self, store) -> list[dict]:
        """Dataset versions whose "used by" log names this model's folder (a fine-tune run's output)."""
        model = self.options["model"]
        if not model:
            return []
        folder = str(Path(model).resolve())
        out = []
        try:
            for v in readable_versions(store):
                for use in read_uses(v, root=store):
                    if str(use.output or "") == folder:
                        out.append({"ref": v.ref, "use": use.to_dict()})
        except RegistryError:
            return out
        return out
