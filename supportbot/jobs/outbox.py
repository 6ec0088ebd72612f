"""The outbox: work written in the caller's transaction, run by a job after commit.

The record of work is this table, not Redis (which keeps nothing on disk).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa

from supportbot import request_id
from supportbot.extensions import db
from supportbot.models import Outbox, utcnow

Work = list[tuple[int, str]]  # (outbox id, kind), dispatched after commit

# where a new row can announce itself (jobs/wakeup.py listens in every worker)
CHANNEL = "supportbot_outbox"

# rows added while a request or job runs, for it to dispatch after its commit
_collector: ContextVar[Work | None] = ContextVar("outbox_collector", default=None)


@contextmanager
def collecting() -> Iterator[Work]:
    """Collect the (id, kind) of every outbox row added inside the block."""
    work: Work = []
    token = _collector.set(work)
    try:
        yield work
    finally:
        _collector.reset(token)


# built once: building and compiling the statement per call cost more CPU than its round trip
_INSERT = sa.insert(Outbox).values(
    kind=sa.bindparam("kind"),
    payload=sa.bindparam("payload", type_=sa.JSON),
    state="pending",
    attempts=0,
    created_at=sa.bindparam("created_at"),
)
_ADD = _INSERT.returning(Outbox.id)
# the row also names itself on CHANNEL: Postgres delivers it at commit (jobs/wakeup.py)
_ADD_NOTIFY = _INSERT.returning(
    Outbox.id,
    sa.func.pg_notify(
        CHANNEL,
        sa.cast(Outbox.id, sa.Text).concat(":").concat(Outbox.kind).concat(":").concat(sa.bindparam("rid")),
    ),
)

# set by a caller whose rows should wake a worker through Postgres instead of an enqueue
_notifying: ContextVar[bool] = ContextVar("outbox_notifying", default=False)


@contextmanager
def notifying(enabled: bool = True) -> Iterator[None]:
    """Rows added inside the block announce themselves at commit; none is collected."""
    token = _notifying.set(enabled)
    try:
        yield
    finally:
        _notifying.reset(token)


def add(kind: str, **payload: object) -> tuple[int, str]:
    """Write work for after commit, in the caller's transaction (one INSERT, no ORM flush)."""
    conn = db.session.connection()
    notify = _notifying.get() and conn.dialect.name == "postgresql"
    params = {"kind": kind, "payload": payload, "created_at": utcnow()}
    if notify:
        # the request's id travels with the notification into the job's log lines
        params["rid"] = request_id.current() or ""
    outbox_id = conn.execute(_ADD_NOTIFY if notify else _ADD, params).scalar_one()
    collected = _collector.get()
    if collected is not None and not notify:
        collected.append((outbox_id, kind))
    return outbox_id, kind
