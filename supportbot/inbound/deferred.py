"""Stage 2 in a worker: route a text the web process stored while overloaded; reply by SMS."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from supportbot import metrics
from supportbot.extensions import db
from supportbot.inbound import service
from supportbot.jobs import outbox
from supportbot.jobs.errors import PermanentError
from supportbot.jobs.registry import OUTBOUND, job
from supportbot.keywords import engine
from supportbot.models import Message
from supportbot.outbound.pipeline import queue_sms
from supportbot.phone import mask

log = logging.getLogger(__name__)


@job(service.ROUTE_KIND, OUTBOUND)
def route_inbound(message_id: int) -> None:
    """Route a deferred text exactly once; its reply goes through the outbound pipeline."""
    # the row lock orders two runs of this job; the second sees the route and stops
    row = db.session.execute(
        sa.select(
            Message.sid, Message.from_number, Message.body, Message.raw_form, Message.raw_body, Message.route
        )
        .where(Message.id == message_id, Message.direction == "in")
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise PermanentError(f"no inbound message {message_id}: it is gone")
    if row.route is not None:
        return  # routed already
    form: MultiDict[str, str] = MultiDict([(str(k), str(v)) for k, v in row.raw_form or []])
    config = current_app.extensions["keywords"].get()
    match = engine.route(config, row.body, form.get("OptOutType"))
    outcome, ticket_id = service.route(
        config,
        match,
        message_id,
        row.sid,
        row.from_number,
        row.body,
        row.raw_body or b"",
        bool(form.get("OptOutType")),
    )
    metrics.inbound(match.route.keyword, match.route.action)
    if outcome.reply:
        # keyed by the text's sid: a second run finds these rows instead of writing more;
        # send_sms checks consent and the sender's rate at send time
        for part_id in queue_sms(row.from_number, outcome.reply, f"inbound-reply-{row.sid}", ticket_id):
            outbox.add("send_sms", message_id=part_id)
    log.info(
        "deferred inbound id=%s from=%s route=%s reply=%s",
        message_id,
        mask(row.from_number),
        match.route.action,
        "sms" if outcome.reply else "none",
    )
