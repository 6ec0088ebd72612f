"""The job every outbox row runs as: look the row up, run its handler, mark it done."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from rq import get_current_job

from supportbot import metrics
from supportbot.extensions import db
from supportbot.models import Outbox

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """Retrying cannot fix this (bad configuration, a final Twilio error): fail now."""


class RetryLater(Exception):
    """Worth retrying; when the far side said how long to wait (Retry-After), wait at least that."""

    def __init__(self, reason: str, seconds: int | None = None):
        super().__init__(reason)
        self.seconds = seconds


# the attempt of the outbox row being run in this process: 1 on the first run.
# A later attempt may follow one whose request reached the far side (a timeout, a
# killed worker), so handlers look for the effect of that request before repeating it.
_attempt: ContextVar[int] = ContextVar("outbox_attempt", default=1)


def is_retry() -> bool:
    return _attempt.get() > 1


@dataclass(frozen=True)
class Kind:
    run: Callable[..., None]
    # called once, when the row has failed for good, with the reason
    failed: Callable[..., None] | None = None


@cache
def kinds() -> dict[str, Kind]:
    """The job kinds, built once per process (imported late: they import this module)."""
    from supportbot.outbound import jobs as outbound_jobs
    from supportbot.tickets import jobs as ticket_jobs

    return {
        "create_ticket": Kind(ticket_jobs.create_ticket, ticket_jobs.create_failed),
        "agent_reply": Kind(outbound_jobs.agent_reply, outbound_jobs.reply_failed),
        "send_sms": Kind(outbound_jobs.send_sms, outbound_jobs.send_failed),
        "delivery_receipt": Kind(outbound_jobs.delivery_receipt),
        "comment": Kind(ticket_jobs.add_message_comment),
        "ack": Kind(ticket_jobs.ack),
        "ticket_note": Kind(ticket_jobs.add_note),
    }


def execute(outbox_id: int) -> str:
    """Run one outbox row's work; safe to run twice; raises on failure."""
    row = db.session.get(Outbox, outbox_id)
    if row is None:
        raise LookupError(f"no outbox row {outbox_id}")
    if row.state != "pending":
        metrics.job_ran(row.kind, "skipped", 0.0)
        db.session.rollback()
        return f"already {row.state}"
    # counted before the work, so that a run killed halfway still counts
    row.attempts += 1
    kind, payload, attempt = row.kind, dict(row.payload), row.attempts
    db.session.commit()
    from supportbot.inbound.actions import collecting_outbox

    token = _attempt.set(attempt)
    started = time.perf_counter()
    try:
        with collecting_outbox() as follow_ups:
            # a handler leaves its writes uncommitted: they commit below with "done"
            kinds()[kind].run(**payload)
    except Exception as exc:
        db.session.rollback()
        final = isinstance(exc, PermanentError) or not _retries_left()
        job = get_current_job()
        if job is not None and isinstance(exc, PermanentError):
            job.retries_left = 0  # the worker reads this to decide on a retry
        elif job is not None and isinstance(exc, RetryLater) and exc.seconds and job.retries_left:
            _wait_at_least(job, exc.seconds)
        record_failure(outbox_id, f"{exc.__class__.__name__}: {exc}", final)
        metrics.job_ran(kind, "failed" if final else "retry", time.perf_counter() - started)
        raise
    finally:
        _attempt.reset(token)
    row = db.session.get(Outbox, outbox_id)
    row.state = "done"
    row.done_at = datetime.now(UTC)
    row.last_error = None
    db.session.commit()  # the handler's writes and "done", in one transaction
    metrics.job_ran(kind, "done", time.perf_counter() - started)
    if follow_ups:
        from supportbot import jobs

        jobs.dispatch(follow_ups)
    return "done"


def _wait_at_least(job: Any, seconds: int) -> None:
    """Make RQ's next retry interval at least `seconds` (it indexes intervals by retries left)."""
    intervals = list(job.retry_intervals or [0])
    index = max(len(intervals) - job.retries_left, 0)
    if index < len(intervals):
        intervals[index] = max(intervals[index], seconds)
        job.retry_intervals = intervals


def _retries_left() -> bool:
    job = get_current_job()
    # in process (development) there is no RQ retry: the row stays pending for the relay
    return job is None or bool(job.retries_left)


def record_failure(outbox_id: int, reason: str, final: bool) -> None:
    from supportbot.inbound.actions import collecting_outbox

    row = db.session.get(Outbox, outbox_id)
    if row is None or row.state != "pending":
        db.session.rollback()
        return
    row.last_error = reason[:2000]
    with collecting_outbox() as follow_ups:
        if final:
            row.state = "failed"
            kind = kinds().get(row.kind)
            if kind is not None and kind.failed is not None:
                kind.failed(reason=reason, **row.payload)
    db.session.commit()
    log.warning("outbox=%s %s failed%s: %s", outbox_id, row.kind, " for good" if final else "", reason[:200])
    if follow_ups:
        from supportbot import jobs

        jobs.dispatch(follow_ups)


def run_outbox(outbox_id: int) -> str:
    """The RQ entry point; the worker runs it inside the app context."""
    return execute(outbox_id)


def on_job_failure(job: Any, connection: Any, exc_type: Any, value: Any, tb: Any) -> None:
    """RQ's failure callback; it also covers jobs abandoned by a killed worker."""
    if job.retries_left:
        return
    outbox_id = int(job.args[0])
    record_failure(outbox_id, f"{getattr(exc_type, '__name__', exc_type)}: {value}", final=True)
