"""Put failed ticket creations back to work: the CLI's `tickets failed --retry` and the console's Retry."""

from __future__ import annotations

import sqlalchemy as sa
from rq.exceptions import NoSuchJobError
from rq.job import Job

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.jobs.dispatch import dispatch
from supportbot.models import Outbox, Ticket


def failed_tickets() -> list[Ticket]:
    return list(
        db.session.scalars(sa.select(Ticket).where(Ticket.create_state == "failed").order_by(Ticket.id))
    )


def retry(tickets: list[Ticket]) -> list[int]:
    """Reset each failed ticket's create job to pending, commit, and dispatch it; the ids retried."""
    retried: list[tuple[int, str]] = []
    ids = []
    for t in tickets:
        if t.create_state != "failed":
            continue
        row = db.session.scalars(
            sa.select(Outbox)
            .where(Outbox.kind == "create_ticket", Outbox.state == "failed")
            .where(Outbox.payload["ticket_id"].as_integer() == t.id)
            .with_for_update()
        ).first()
        if row is not None:
            row.state, row.last_error = "pending", None
            t.create_state, t.create_error = "pending", None
            retried.append((row.id, row.kind))
            ids.append(t.id)
    db.session.commit()
    if config.current().redis_url:
        # RQ keeps the failed job under the same id: remove it so that the enqueue is not a no-op
        for outbox_id, _ in retried:
            try:
                Job.fetch(queues.job_id(outbox_id), connection=queues.redis()).delete()
            except NoSuchJobError:
                pass
    dispatch(retried)
    return ids
