"""After commit: hand outbox rows to RQ, or run them here in development; RQ's entry points."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from flask import current_app

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import queues, runner
from supportbot.jobs.errors import JobFailed

log = logging.getLogger(__name__)

REDIS_BACKOFF_SECONDS = 5.0


def dispatch(work: Iterable[tuple[int, str]]) -> None:
    """Hand the committed outbox rows (id, kind) to RQ, or run them here in development.

    A failure here loses nothing: the rows stay pending and the relay enqueues them.
    """
    rows = list(work)
    if not rows:
        return
    if not config.current().redis_url:
        for outbox_id, _ in rows:
            try:
                run_outbox(outbox_id)
            except JobFailed as exc:
                log.warning("in-process job failed outbox=%s; it stays pending: %s", outbox_id, exc)
            except Exception:  # the commit is done: the request must still answer
                log.exception("in-process job failed outbox=%s; it stays pending", outbox_id)
                db.session.rollback()
        return
    # after a failed enqueue, leave new rows to the relay for a few seconds instead of
    # making every text wait out Redis's timeout before its answer
    if time.monotonic() < current_app.extensions.get("redis_down_until", 0.0):
        return
    for outbox_id, kind in rows:
        try:
            queues.enqueue_outbox(outbox_id, kind)
        except Exception as exc:  # noqa: BLE001 - Redis down: the relay takes over
            current_app.extensions["redis_down_until"] = time.monotonic() + REDIS_BACKOFF_SECONDS
            log.warning(
                "enqueue failed outbox=%s (%s); the relay will retry", outbox_id, exc.__class__.__name__
            )
            return


def run_outbox(outbox_id: int) -> str:
    """The RQ entry point; the worker runs it inside the app context."""
    try:
        follow_ups = runner.execute(outbox_id)
    except JobFailed as exc:
        dispatch(exc.follow_ups)
        raise
    dispatch(follow_ups)
    return "done"


def on_job_failure(job: Any, connection: Any, exc_type: Any, value: Any, tb: Any) -> None:
    """RQ's failure callback; it also covers jobs abandoned by a killed worker."""
    if job.retries_left:
        return
    outbox_id = int(job.args[0])
    dispatch(
        runner.record_failure(outbox_id, f"{getattr(exc_type, '__name__', exc_type)}: {value}", final=True)
    )
