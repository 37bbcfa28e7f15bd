"""The request layer: every call to a model, whoever makes it (generation, answers, the judge, chat).

    from modelcalls import Endpoint, build_backend, Calls, run_requests
    backend = build_backend(Endpoint(model="gpt-4o-mini", concurrency=16), api_key=key)

It owns where requests go and how fast (`endpoint.py`), the backends (an OpenAI-compatible
endpoint, a local checkpoint in-process; `backends/`), the append-only journal that makes every
paid run resumable (`journal.py`), tokens and dollars (`tokens.py`, `pricing.py`, `accounting.py`),
adaptive concurrency and the one request loop (`concurrency.py`, `loop.py`), the same requests
through an endpoint's Batch API at its price (`batch.py`, `run_batched`; `batch_cli.py` holds the
`--batch` options every command shares), and its errors.
It imports nothing from the project but `records`.
"""

from modelcalls.endpoint import Endpoint, build_backend
from modelcalls.loop import Calls, run_requests, run_resumable

__all__ = ["Calls", "Endpoint", "build_backend", "run_requests", "run_resumable"]
