"""Ticket jobs: create the issue, add texts and notes as comments, acknowledge.

Each leaves its writes uncommitted; jobs.tasks.execute commits them together with
the outbox row's "done".
"""

from __future__ import annotations

import logging

from flask import current_app

from supportbot.extensions import db
from supportbot.models import Contact, Message, Ticket
from supportbot.phone import mask
from supportbot.tickets.backends import NewIssue, backend

log = logging.getLogger(__name__)

LABEL = "supportbot"


def ticket_label(ticket_id: int) -> str:
    # the label that lets a retried job find the issue an earlier attempt made
    return f"supportbot-ticket-{ticket_id}"


def _description(ticket: Ticket, message: Message, contact: Contact) -> str:
    lines = [
        f"Text from {contact.phone} (supportbot ticket {ticket.ref}):",
        "",
        message.body or "(no text)",
    ]
    if message.media:
        lines += ["", "Media:"] + [f"- {m['url']} ({m.get('content_type', '')})" for m in message.media]
    return "\n".join(lines)


def create_ticket(ticket_id: int, message_id: int) -> None:
    """Create the help-desk issue for a ticket, exactly once."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    if ticket.create_state == "created":
        db.session.rollback()
        return
    message = db.session.get(Message, message_id)
    contact = db.session.get(Contact, ticket.contact_id)
    issue = NewIssue(
        ticket_id=ticket.id,
        ref=ticket.ref,
        summary=f"SMS {mask(contact.phone)}: {ticket.summary}"[:250],
        description=_description(ticket, message, contact),
        labels=(LABEL, ticket_label(ticket.id)),
        attachments=_attachments(message),
    )
    db.session.rollback()  # no transaction held open across the network call
    created = backend().create(issue)
    ticket = db.session.get(Ticket, ticket_id)
    ticket.jira_key = created.key
    ticket.status = created.status
    ticket.create_state = "created"
    ticket.create_error = None
    log.info("ticket %s created key=%s", ticket.ref, created.key or "-")


def _attachments(message: Message) -> list[tuple[str, bytes]]:
    if not (current_app.config["JIRA_ATTACH_MEDIA"] and message.media):
        return []
    from supportbot.outbound.twilio_client import download_media

    return [download_media(m["url"], m.get("content_type", ""), i) for i, m in enumerate(message.media)]


def create_failed(ticket_id: int, reason: str, **_: object) -> None:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is not None and ticket.create_state != "created":
        ticket.create_state = "failed"
        ticket.create_error = reason[:2000]


def _created(ticket_id: int) -> Ticket:
    """The ticket, once its issue exists; raises (and so retries) until then."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    if ticket.create_state != "created":
        raise RuntimeError(f"{ticket.ref} has no issue yet; retrying later")
    return ticket


def add_message_comment(ticket_id: int, message_id: int) -> None:
    """A later text from the contact, as a comment on the issue; reopens a closed one."""
    ticket = _created(ticket_id)
    message = db.session.get(Message, message_id)
    key, closed = ticket.jira_key, ticket.closed
    body = f"Text from the customer ({message.sid}):\n\n{message.body or '(no text)'}"
    if message.media:
        body += "\n\nMedia:\n" + "\n".join(f"- {m['url']}" for m in message.media)
    db.session.rollback()
    desk = backend()
    desk.comment(ticket_id, key, body, dedupe=f"sms-{message.sid}")
    if closed:
        status = desk.transition(key, current_app.config["JIRA_REOPEN_TRANSITION"])
        ticket = db.session.get(Ticket, ticket_id)
        if status:
            ticket.status, ticket.closed, ticket.closed_at = status, False, None


def ack(ticket_id: int, agent: str, message_id: int) -> None:
    """An agent's ACK by SMS: a comment, and the configured transition."""
    ticket = _created(ticket_id)
    key = ticket.jira_key
    db.session.rollback()
    desk = backend()
    desk.comment(ticket_id, key, f"Acknowledged by {agent} via SMS", dedupe=f"ack-{message_id}")
    name = current_app.config["JIRA_ACK_TRANSITION"]
    status = desk.transition(key, name) if name else None
    ticket = db.session.get(Ticket, ticket_id)
    if status:
        ticket.status = status


def add_note(ticket_id: int, body: str, dedupe: str) -> None:
    """A note from supportbot itself (delivery failures and the like) on the issue."""
    ticket = _created(ticket_id)
    key = ticket.jira_key
    db.session.rollback()
    backend().comment(ticket_id, key, body, dedupe=dedupe)
