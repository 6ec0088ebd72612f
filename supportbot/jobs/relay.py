"""The outbox relay: re-enqueue rows the request could not hand to RQ.

A commit followed by a crash, or a Redis that was down or restarted (it keeps
nothing on disk), leaves rows pending with no job. The relay finds them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Outbox

log = logging.getLogger(__name__)

LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def relay_pending(limit: int = 500) -> int:
    """Enqueue pending rows older than OUTBOX_RELAY_AFTER_SECONDS that RQ does not hold."""
    cutoff = datetime.now(UTC) - timedelta(seconds=config.current().outbox_relay_after_seconds)
    rows = db.session.execute(
        sa.select(Outbox.id, Outbox.kind)
        .where(Outbox.state == "pending", Outbox.created_at < cutoff)
        .order_by(Outbox.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    conn = queues.redis()
    moved = 0
    for outbox_id, kind in rows:
        try:
            job = Job.fetch(queues.job_id(outbox_id), connection=conn)
        except NoSuchJobError:
            job = None
        if job is not None:
            if job.get_status() in LIVE:
                continue
            # finished or failed in RQ yet still pending here: the outcome was lost
            job.delete()
        if queues.enqueue_outbox(outbox_id, kind):
            moved += 1
    if moved:
        log.info("relay enqueued %d pending outbox rows", moved)
    return moved
