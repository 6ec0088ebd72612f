"""The job every outbox row runs as: look the row up, run its handler, mark it done."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rq import get_current_job

from supportbot.extensions import db
from supportbot.models import Outbox

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """Retrying cannot fix this (bad configuration, a final Twilio error): fail now."""


@dataclass(frozen=True)
class Kind:
    run: Callable[..., None]
    # called once, when the row has failed for good, with the reason
    failed: Callable[..., None] | None = None


def kinds() -> dict[str, Kind]:
    from supportbot.tickets import jobs as ticket_jobs

    return {
        "create_ticket": Kind(ticket_jobs.create_ticket, ticket_jobs.create_failed),
        "comment": Kind(ticket_jobs.add_message_comment),
        "ack": Kind(ticket_jobs.ack),
        "ticket_note": Kind(ticket_jobs.add_note),
    }


_pool_pid = os.getpid()


def _fresh_pool_after_fork() -> None:
    # RQ forks a work horse per job: never reuse the parent's database connections
    global _pool_pid
    if os.getpid() != _pool_pid:
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def execute(outbox_id: int) -> str:
    """Run one outbox row's work; safe to run twice; raises on failure."""
    _fresh_pool_after_fork()
    row = db.session.get(Outbox, outbox_id)
    if row is None:
        raise LookupError(f"no outbox row {outbox_id}")
    if row.state != "pending":
        db.session.rollback()
        return f"already {row.state}"
    kind, payload = row.kind, dict(row.payload)
    db.session.rollback()
    try:
        kinds()[kind].run(**payload)
    except Exception as exc:
        db.session.rollback()
        final = isinstance(exc, PermanentError) or not _retries_left()
        if isinstance(exc, PermanentError):
            job = get_current_job()
            if job is not None:
                job.retries_left = 0  # the worker reads this to decide on a retry
        record_failure(outbox_id, f"{exc.__class__.__name__}: {exc}", final)
        raise
    row = db.session.get(Outbox, outbox_id)
    row.state = "done"
    row.attempts += 1
    row.done_at = datetime.now(UTC)
    row.last_error = None
    db.session.commit()
    return "done"


def _retries_left() -> bool:
    job = get_current_job()
    # in process (development) there is no RQ retry: the row stays pending for the relay
    return job is None or bool(job.retries_left)


def record_failure(outbox_id: int, reason: str, final: bool) -> None:
    row = db.session.get(Outbox, outbox_id)
    if row is None or row.state != "pending":
        db.session.rollback()
        return
    row.attempts += 1
    row.last_error = reason[:2000]
    if final:
        row.state = "failed"
        kind = kinds().get(row.kind)
        if kind is not None and kind.failed is not None:
            kind.failed(reason=reason, **row.payload)
    db.session.commit()
    log.warning("outbox=%s %s failed%s: %s", outbox_id, row.kind, " for good" if final else "", reason[:200])


def run_outbox(outbox_id: int) -> str:
    """The RQ entry point; the worker runs it inside the app context."""
    return execute(outbox_id)


def on_job_failure(job: Any, connection: Any, exc_type: Any, value: Any, tb: Any) -> None:
    """RQ's failure callback; it also covers jobs abandoned by a killed worker."""
    if job.retries_left:
        return
    outbox_id = int(job.args[0])
    _fresh_pool_after_fork()
    record_failure(outbox_id, f"{getattr(exc_type, '__name__', exc_type)}: {value}", final=True)
