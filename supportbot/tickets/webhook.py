"""POST /jira/webhook: issue events keep ticket status current for STATUS; comment
events carry agents' replies to the outbound pipeline."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.dispatch import dispatch
from supportbot.models import Note, Ticket, WebhookDelivery
from supportbot.signing import jira_signature_ok
from supportbot.tickets.payloads import (
    author_identity,
    author_ids,
    comment_text,
    in_project,
    is_public,
    shape_problem,
    status_of,
)

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
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        abort(400, description="the body is nested too deeply")
    if not isinstance(payload, dict):
        abort(400, description="the body must be a JSON object")
    problem = shape_problem(payload)
    if problem is not None:
        abort(400, description=problem)
    event = str(payload.get("webhookEvent") or "")
    delivery = (
        request.headers.get("X-Atlassian-Webhook-Identifier")
        or hashlib.sha256(request.get_data()).hexdigest()
    )
    with outbox.collecting() as work:
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
            work.clear()
    dispatch(work)
    log.info("jira webhook %s delivery=%s", event or "-", delivery[:40])
    return Response(status=204)


def apply_comment_event(payload: dict[str, Any]) -> None:
    """A public comment on a ticket (or a /sms comment anywhere) becomes an agent_reply job."""
    comment = payload.get("comment") or {}
    issue = payload.get("issue") or {}
    key, comment_id = issue.get("key"), str(comment.get("id") or "")
    if not key or not comment_id:
        return
    if not first_delivery(f"comment:{comment_id}", "comment_created"):
        return  # the same comment through another delivery
    if db.session.scalar(sa.select(Note.id).where(Note.remote_id == comment_id)) is not None:
        return  # one supportbot wrote itself
    text = comment_text(comment.get("body"))
    settings = config.current()
    prefix = settings.agent_sms_prefix
    directed = text.lower() == prefix.lower() or text.lower().startswith(prefix.lower() + " ")
    ticket_id = db.session.scalar(sa.select(Ticket.id).where(Ticket.jira_key == key))
    if not directed and (ticket_id is None or not is_public(comment, issue)):
        return  # internal, or not a supportbot ticket
    if directed and not in_project(str(key), settings.jira_project_key):
        # /sms from any other project could text any customer: refused, and no note
        # goes to an issue that is not ours
        log.warning("jira comment %s on %s refused: /sms outside the support project", comment_id, key)
        return
    # whether the author is an agent is asked of Jira by the job: the web never calls Jira
    outbox.add(
        "agent_reply",
        key=key,
        comment_id=comment_id,
        text=text,
        authors=sorted(author_ids(comment)),
        author=author_identity(comment),
        directed=directed,
        ticket_id=ticket_id,
    )


HANDLERS: dict[str, Any] = {name: apply_issue_event for name in ISSUE_EVENTS}
HANDLERS["comment_created"] = apply_comment_event
