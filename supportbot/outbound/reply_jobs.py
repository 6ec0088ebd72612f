"""Outbound jobs: an agent's Jira comment to SMS, single sends, delivery receipts.

Notes for the ticket are written as "ticket_note" outbox rows, posted by their own
job after this one commits: a failure handler never calls the help desk itself.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.registry import OUTBOUND, TICKETS, job, on_failure
from supportbot.jobs.runner import require
from supportbot.models import Contact, Message, Ticket
from supportbot.outbound import delivery
from supportbot.outbound.pipeline import queue_sms, send_one
from supportbot.phone import mask, normalise
from supportbot.tickets import agents
from supportbot.tickets.backends import backend

log = logging.getLogger(__name__)


def _note(ticket_id: int | None, key: str | None, text: str, dedupe: str) -> None:
    outbox.add("ticket_note", ticket_id=ticket_id, key=key, body=f"supportbot: {text}", dedupe=dedupe)


def _directed(text: str) -> tuple[str | None, str]:
    """'/sms +14155550123 Hello' -> ('+14155550123', 'Hello'); '/sms Hello' -> (None, 'Hello')."""
    rest = text[len(config.current().agent_sms_prefix) :].strip()
    first, _, after = rest.partition(" ")
    if first.startswith("+") or first.replace("-", "").replace("(", "").replace(")", "").isdigit():
        return normalise(first), after.strip()
    return None, rest


def agent_rule() -> agents.AgentRule:
    settings = config.current()
    return agents.AgentRule(groups=settings.jira_agent_groups, accounts=settings.jira_agent_accounts)


@job("agent_reply", OUTBOUND)
def agent_reply(
    key: str,
    comment_id: str,
    text: str,
    authors: list[str],
    directed: bool,
    ticket_id: int | None,
    author: dict[str, str] | None = None,
    console_user: str | None = None,
) -> None:
    """An agent's comment (or a console reply) becomes SMS parts to the ticket's contact, in order, once."""
    desk = backend()
    if set(authors) & desk.own_ids():
        return  # the bot's own comment: never echoed back to the customer
    # a console reply comes from a signed-in admin; a help-desk comment must be an agent's
    why = None if console_user else agents.refusal(author or {}, agent_rule(), desk.groups_of)
    if why is not None:
        log.warning("jira comment %s on %s refused: %s", comment_id, key, why)
        _note(
            ticket_id,
            key,
            f"comment {comment_id} was not sent by SMS: {why}. Only agents' comments reach customers",
            f"refused-{comment_id}",
        )
        return
    body = text
    if directed:
        number, body = _directed(text)
        if number is not None:
            contact = db.session.scalars(sa.select(Contact).where(Contact.phone == number)).first()
            if contact is None:
                _note(
                    ticket_id,
                    key,
                    f"not sent: {mask(number)} has never texted us, so it is not a known number",
                    f"dir-{comment_id}",
                )
                return
            ticket = db.session.scalars(sa.select(Ticket).where(Ticket.jira_key == key)).first()
            if ticket is None:
                # an agent starts a conversation on an issue of their own: link it
                ticket = Ticket(contact_id=contact.id, jira_key=key, create_state="created", summary=key)
                db.session.add(ticket)
                db.session.flush()
            elif ticket.contact_id != contact.id:
                _note(
                    ticket.id,
                    key,
                    f"not sent: this ticket belongs to another number than {mask(number)}",
                    f"dir-{comment_id}",
                )
                return
            ticket_id = ticket.id
    if ticket_id is None:
        _note(
            None,
            key,
            f"not sent: name a number, e.g. {config.current().agent_sms_prefix} +14155550123 Hello",
            f"dir-{comment_id}",
        )
        return
    if not body:
        return
    ticket = require(Ticket, ticket_id)
    to = require(Contact, ticket.contact_id).phone
    ids = queue_sms(to, body, key=f"jira-comment-{comment_id}", ticket_id=ticket_id, comment_id=comment_id)
    db.session.commit()
    for message_id in ids:  # in order; a retry skips the parts already sent
        send_one(message_id)
        db.session.commit()


@on_failure("agent_reply")
def reply_failed(key: str, comment_id: str, ticket_id: int | None, reason: str, **_: object) -> None:
    _note(
        ticket_id,
        key,
        f"the reply in comment {comment_id} could not be sent: {reason[:200]}",
        f"fail-{comment_id}",
    )


@job("send_sms", OUTBOUND)
def send_sms(message_id: int) -> None:
    send_one(message_id)


@on_failure("send_sms")
def send_failed(message_id: int, reason: str, **_: object) -> None:
    msg = db.session.get(Message, message_id)
    if msg is not None and msg.status not in delivery.FINAL and not msg.sid:
        msg.status = "failed"
        msg.error_detail = reason[:500]
        if msg.ticket_id is not None:
            _note(
                msg.ticket_id, None, f"SMS to {mask(msg.to_number)} failed: {reason[:200]}", f"send-{msg.id}"
            )


@job("delivery_receipt", TICKETS)
def delivery_receipt(message_id: int) -> None:
    """Show a delivered reply on its ticket: a property on the comment, or a short note."""
    msg = require(Message, message_id)
    ticket = require(Ticket, msg.ticket_id)
    when = msg.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    part = f" (part {msg.part} of {msg.parts})" if msg.parts > 1 else ""
    text = f"delivered to {mask(msg.to_number)}{part} at {when}"
    if config.current().delivery_receipts == "property" and msg.comment_id:
        backend().mark_delivered(
            ticket.jira_key, msg.comment_id, {"status": "delivered", "part": msg.part, "at": when}
        )
    else:
        _note(ticket.id, ticket.jira_key, text, f"delivered-{msg.id}")
