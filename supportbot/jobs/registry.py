"""Job kinds, each declared once where it is defined (@job), naming its queue.

An outbox row's kind names its handler here; the handler runs inside the job
runner's transaction. Leaf: the modules that define jobs import this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

# queues named by purpose; the worker listens to all, most urgent first
OUTBOUND, TICKETS = "outbound", "tickets"
QUEUES = (OUTBOUND, TICKETS)

Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Kind:
    name: str
    queue: str
    run: Callable[..., None]
    # called once, when the row has failed for good, with the reason
    failed: Callable[..., None] | None = None


KINDS: dict[str, Kind] = {}


def job(name: str, queue: str) -> Callable[[Handler], Handler]:
    """Declare the handler of one kind of outbox row and the queue it runs on."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(fn: Handler) -> Handler:
        if name in KINDS and KINDS[name].run is not fn:
            raise ValueError(f"job kind {name!r} is declared twice")
        KINDS[name] = Kind(name, queue, fn, KINDS[name].failed if name in KINDS else None)
        return fn

    return register


def on_failure(name: str) -> Callable[[Handler], Handler]:
    """Declare what happens when a row of this kind has failed for good."""

    def register(fn: Handler) -> Handler:
        KINDS[name] = replace(KINDS[name], failed=fn)
        return fn

    return register


def queue_of(kind: str) -> str:
    found = KINDS.get(kind)
    return found.queue if found is not None else TICKETS
