"""The backends: what every backend is (`base`), an OpenAI-compatible endpoint, a local checkpoint.
`modelcalls.endpoint.build_backend` is the one place that turns an endpoint into a client."""

from __future__ import annotations

from modelcalls.backends.base import Backend, Completion, Decoding, Response
from modelcalls.endpoint import BACKENDS, build_backend

__all__ = ["BACKENDS", "Backend", "Completion", "Decoding", "Response", "build_backend"]
