"""Whether this process routes a text now or leaves it to a worker: in-flight count and queue age.

Pure: no Flask, no database. The view counts, the service decides with these answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    """The number of inbound webhooks inside this process right now (threads share it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @contextmanager
    def entered(self) -> Iterator[int]:
        """Count this request for the block; yields the count including it."""
        with self._lock:
            self._count += 1
            now = self._count
        try:
            yield now
        finally:
            with self._lock:
                self._count -= 1


def queued_ms(header: str | None, now: float | None = None) -> float | None:
    """How long ago a proxy's X-Request-Start says the request reached it, in ms.

    Proxies write it as "t=<seconds>" (nginx: 1700000000.123), milliseconds (Heroku)
    or microseconds (Apache's %t, "t=1700000000123456"); the magnitude says which.
    A value we cannot read, or one from the future, says nothing.
    """
    if not header:
        return None
    text = header.strip()
    if text.startswith("t="):
        text = text[2:]
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value <= 0:  # NaN or nonsense
        return None
    if value > 1e14:
        seconds = value / 1e6
    elif value > 1e11:
        seconds = value / 1e3
    else:
        seconds = value
    waited = ((time.time() if now is None else now) - seconds) * 1000
    # clocks differ a little between hosts; an arrival in the future is not a wait
    return waited if waited >= 0 else None


def overloaded(in_flight: int, limit: int, waited_ms: float | None, budget_ms: float) -> bool:
    """Too many texts routing at once here, or this one already waited its budget upstream."""
    return in_flight > limit or (waited_ms is not None and waited_ms > budget_ms)
