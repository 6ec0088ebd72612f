"""POST /jira/webhook: issue events keep each ticket's status current for STATUS."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request

from supportbot.extensions import db
from supportbot.models import Ticket, WebhookDelivery
from supportbot.signing import jira_signature_ok
from supportbot.tickets.jira_backend import status_of

log = logging.getLogger(__name__)
bp = Blueprint("jira_webhook", __name__)

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated")


def first_delivery(delivery_id: str, event: str) -> bool:
    """Record the delivery; False when it was handled before (in this transaction's view)."""
    exists = db.session.scalar(
        sa.select(WebhookDelivery.id).where(
            WebhookDelivery.source == "jira", WebhookDelivery.delivery_id == delivery_id
        )
    )
    if exists is not None:
        return False
    db.session.add(WebhookDelivery(source="jira", delivery_id=delivery_id, event=event))
    db.session.flush()
    return True


def apply_issue_event(payload: dict[str, Any]) -> None:
    issue = payload.get("issue") or {}
    key = issue.get("key")
    if not key:
        return
    ticket = db.session.scalars(sa.select(Ticket).where(Ticket.jira_key == key).with_for_update()).first()
    if ticket is None:
        return  # not a supportbot ticket (or its key is not recorded yet)
    stamp = int(payload.get("timestamp") or 0)
    if stamp and stamp < ticket.status_at:
        return  # an older event arriving late
    name, closed = status_of(issue.get("fields") or {})
    ticket.status, ticket.status_at = name, stamp or ticket.status_at
    if closed and not ticket.closed:
        ticket.closed, ticket.closed_at = True, datetime.now(UTC)
    elif not closed:
        ticket.closed, ticket.closed_at = False, None


@bp.post("/jira/webhook")
def jira_webhook() -> Response:
    """Verify, deduplicate, and apply a Jira event."""
    if not jira_signature_ok(request):
        abort(403, description="X-Hub-Signature or token is missing or does not match")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, description="the body must be a JSON object")
    event = str(payload.get("webhookEvent") or "")
    delivery = (
        request.headers.get("X-Atlassian-Webhook-Identifier")
        or hashlib.sha256(request.get_data()).hexdigest()
    )
    try:
        if not first_delivery(delivery[:200], event[:64]):
            db.session.rollback()
            return Response(status=204)
        handler = HANDLERS.get(event)
        if handler is not None:
            handler(payload)
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()  # the same delivery, racing itself: the other one handles it
    log.info("jira webhook %s delivery=%s", event or "-", delivery[:40])
    return Response(status=204)


HANDLERS: dict[str, Any] = {name: apply_issue_event for name in ISSUE_EVENTS}
