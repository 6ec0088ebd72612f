"""Background work: the outbox, RQ queues, the relay and the worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from flask import Flask, current_app

log = logging.getLogger(__name__)

REDIS_BACKOFF_SECONDS = 5.0


def dispatch(outbox: Iterable[tuple[int, str]]) -> None:
    """After commit: hand the outbox rows (id, kind) to RQ, or run them here in development.

    A failure here loses nothing: the rows stay pending and the relay enqueues them.
    """
    from supportbot.extensions import db
    from supportbot.jobs import queues, tasks

    rows = list(outbox)
    if not rows:
        return
    if not current_app.config["REDIS_URL"]:
        for outbox_id, _ in rows:
            try:
                tasks.execute(outbox_id)
            except Exception:
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


def init_app(app: Flask) -> None:
    from supportbot.jobs import worker

    worker.init_app(app)
