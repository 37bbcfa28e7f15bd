"""A small least-recently-used cache for data derived from immutable versions (keyed by content hash).

Concurrent requests for the same missing key wait for one computation instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRU:
    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()
        self._pending: dict = {}

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key, compute):
        """The value for `key`, computed by `compute()` on a miss (versions never change, so never stale)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = compute()
            with self._lock:
                self._items[key] = value
                self._pending.pop(key, None)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return value
