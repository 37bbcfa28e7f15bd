"""Times as every file of the project writes them: ISO 8601 in UTC, to the second."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def iso_utc(unix_time: float | None = None) -> str:
    """`unix_time` (now when None) as e.g. 2026-01-31T12:00:00+00:00."""
    return datetime.fromtimestamp(time.time() if unix_time is None else unix_time,
                                  timezone.utc).isoformat(timespec="seconds")
