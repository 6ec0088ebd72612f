"""Running one outbox row: look it up, run its kind's handler, mark it done, in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from rq import get_current_job

from supportbot import metrics
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.errors import JobFailed, PermanentError, RetryLater, describe
from supportbot.jobs.registry import KINDS
from supportbot.models import Outbox
from supportbot.phone import mask_numbers

log = logging.getLogger(__name__)

Row = TypeVar("Row")

# the attempt of the outbox row being run in this process: 1 on the first run.
# A later attempt may follow one whose request reached the far side (a timeout, a
# killed worker), so handlers look for the effect of that request before repeating it.
_attempt: ContextVar[int] = ContextVar("outbox_attempt", default=1)


def is_retry() -> bool:
    return _attempt.get() > 1


def require(model: type[Row], row_id: int | None) -> Row:
    """The row a job is about; a job whose subject is gone fails at once, not for hours."""
    found = db.session.get(model, row_id) if row_id is not None else None
    if found is None:
        raise PermanentError(f"no {getattr(model, '__tablename__', model.__name__)} row {row_id}: it is gone")
    return found


def checkpoint(write: Callable[[], None]) -> None:
    """Commit one write in the middle of a job, on purpose, before a call whose outcome
    a retry must know about (e.g. "a create request went out at ...")."""
    db.session.rollback()
    write()
    db.session.commit()


def execute(outbox_id: int) -> outbox.Work:
    """Run one outbox row's work; safe to run twice; raises on failure.

    Returns the follow-up rows the handler wrote, for the caller to dispatch.
    """
    row = db.session.get(Outbox, outbox_id)
    if row is None:
        raise JobFailed(f"no outbox row {outbox_id}")
    if row.state != "pending":
        metrics.job_ran(row.kind, "skipped", 0.0)
        db.session.rollback()
        return []
    # counted before the work, so that a run killed halfway still counts
    row.attempts += 1
    kind, payload, attempt = row.kind, dict(row.payload), row.attempts
    db.session.commit()
    token = _attempt.set(attempt)
    started = time.perf_counter()
    try:
        with outbox.collecting() as follow_ups:
            # a handler leaves its writes uncommitted: they commit below with "done"
            KINDS[kind].run(**payload)
    except Exception as exc:
        db.session.rollback()
        final = isinstance(exc, PermanentError) or not _retries_left()
        job = get_current_job()
        if job is not None and isinstance(exc, PermanentError):
            job.retries_left = 0  # the worker reads this to decide on a retry
        elif job is not None and isinstance(exc, RetryLater) and exc.seconds and job.retries_left:
            _wait_at_least(job, exc.seconds)
        reason = describe(exc)
        if not isinstance(exc, RetryLater | PermanentError):
            log.warning("outbox=%s %s raised unexpectedly", outbox_id, kind, exc_info=True)
        metrics.job_ran(kind, "failed" if final else "retry", time.perf_counter() - started)
        raise JobFailed(reason, record_failure(outbox_id, reason, final)) from None
    finally:
        _attempt.reset(token)
    done = db.session.get(Outbox, outbox_id)
    assert done is not None  # noqa: S101 - read in this transaction a moment ago
    done.state = "done"
    done.done_at = datetime.now(UTC)
    done.last_error = None
    db.session.commit()  # the handler's writes and "done", in one transaction
    metrics.job_ran(kind, "done", time.perf_counter() - started)
    return follow_ups


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


def record_failure(outbox_id: int, reason: str, final: bool) -> outbox.Work:
    """Keep the reason (numbers masked); when final, mark the row failed and tell its kind."""
    row = db.session.get(Outbox, outbox_id)
    if row is None or row.state != "pending":
        db.session.rollback()
        return []
    reason = mask_numbers(reason)[:2000]
    row.last_error = reason
    with outbox.collecting() as follow_ups:
        if final:
            row.state = "failed"
            kind = KINDS.get(row.kind)
            if kind is not None and kind.failed is not None:
                kind.failed(reason=reason, **row.payload)
    db.session.commit()
    log.warning("outbox=%s %s failed%s: %s", outbox_id, row.kind, " for good" if final else "", reason[:200])
    return follow_ups
