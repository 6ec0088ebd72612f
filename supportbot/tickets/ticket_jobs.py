"""Ticket jobs: create the issue, add texts and notes as comments, acknowledge.

Each leaves its writes uncommitted; the job runner commits them together with the
outbox row's "done". The help desk (tickets.backends) only speaks to the help desk.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import sqlalchemy as sa

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs.errors import PermanentError, RetryLater
from supportbot.jobs.registry import TICKETS, job, on_failure
from supportbot.jobs.runner import checkpoint, is_retry, require
from supportbot.models import Contact, Message, Note, Ticket, as_utc
from supportbot.phone import mask
from supportbot.tickets.backends import backend
from supportbot.tickets.desk import Created, NewIssue
from supportbot.twilio_client import download_media

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


def post_note(ticket_id: int | None, key: str | None, body: str, dedupe: str) -> None:
    """A comment on the ticket once per dedupe key: on the help desk, and recorded here.

    A retry first looks for the comment an earlier attempt may have posted. Call it
    before the job writes anything: it ends the job's reading transaction before the
    network call. Anything else that wants a note writes a "ticket_note" outbox row.
    """
    if db.session.scalar(sa.select(Note.id).where(Note.dedupe_key == dedupe)) is not None:
        return
    db.session.rollback()  # no transaction held open across the network call
    remote_id = backend().comment(key, body, dedupe, look_first=is_retry())
    db.session.add(Note(ticket_id=ticket_id, body=body, dedupe_key=dedupe, remote_id=remote_id))


@job("create_ticket", TICKETS)
def create_ticket(ticket_id: int, message_id: int) -> None:
    """Create the help-desk issue for a ticket, exactly once."""
    ticket = require(Ticket, ticket_id)
    if ticket.create_state == "created":
        db.session.rollback()
        return
    message = require(Message, message_id)
    contact = require(Contact, ticket.contact_id)
    issue = NewIssue(
        ticket_id=ticket.id,
        ref=ticket.ref,
        summary=f"SMS {mask(contact.phone)}: {ticket.summary}"[:250],
        description=_description(ticket, message, contact),
        labels=(LABEL, ticket_label(ticket.id)),
        attachments=_attachments(message),
    )
    sent_at = ticket.create_sent_at
    db.session.rollback()  # no transaction held open across the network call
    created = _create_once(issue, sent_at)
    ticket = require(Ticket, ticket_id)
    ticket.jira_key = created.key
    ticket.status = created.status
    ticket.create_state = "created"
    ticket.create_error = None
    log.info("ticket %s created key=%s", ticket.ref, created.key or "-")


def _create_once(issue: NewIssue, sent_at: datetime | None) -> Created:
    """A first attempt creates at once; a later one first looks for what an earlier
    attempt may have made (it timed out, or its worker was killed)."""
    desk = backend()
    if is_retry():
        existing = desk.find(issue.labels[-1])
        if existing is not None:
            log.info("ticket %s: found the issue %s an earlier attempt made", issue.ref, existing.key)
            return existing
        _wait_for_search_index(sent_at, desk.search_lag)
    checkpoint(lambda: _mark_sent(issue.ticket_id, datetime.now(UTC)))
    try:
        return desk.create(issue)
    except (PermanentError, RetryLater) as exc:
        if exc.refused:
            checkpoint(lambda: _mark_sent(issue.ticket_id, None))  # answered, and made nothing
        raise


def _mark_sent(ticket_id: int, when: datetime | None) -> None:
    db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(create_sent_at=when))


def _wait_for_search_index(sent_at: datetime | None, lag: float) -> None:
    """The help desk's search may lag (Jira's JQL index is eventually consistent): an
    issue made a moment ago may not be found yet. Create again only once the earlier
    request is older than the lag."""
    if sent_at is None:
        return
    waited = (datetime.now(UTC) - as_utc(sent_at)).total_seconds()
    if waited < lag:
        remaining = max(1, math.ceil(lag - waited))
        raise RetryLater(f"not found by search yet; Jira's index may lag (waiting {remaining}s)", remaining)


def _attachments(message: Message) -> list[tuple[str, bytes]]:
    if not (config.current().jira_attach_media and message.media):
        return []
    return [download_media(m["url"], m.get("content_type", ""), i) for i, m in enumerate(message.media)]


@on_failure("create_ticket")
def create_failed(ticket_id: int, reason: str, **_: object) -> None:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is not None and ticket.create_state != "created":
        ticket.create_state = "failed"
        ticket.create_error = reason[:2000]


def _created(ticket_id: int) -> Ticket:
    """The ticket, once its issue exists; raises (and so retries) until then."""
    ticket = require(Ticket, ticket_id)
    if ticket.create_state != "created":
        raise RetryLater(f"{ticket.ref} has no issue yet; retrying later")
    return ticket


@job("comment", TICKETS)
def add_message_comment(ticket_id: int, message_id: int) -> None:
    """A later text from the contact, as a comment on the issue; reopens a closed one."""
    ticket = _created(ticket_id)
    message = require(Message, message_id)
    key, closed = ticket.jira_key, ticket.closed
    body = f"Text from the customer ({message.sid}):\n\n{message.body or '(no text)'}"
    if message.media:
        body += "\n\nMedia:\n" + "\n".join(f"- {m['url']}" for m in message.media)
    post_note(ticket_id, key, body, dedupe=f"sms-{message.sid}")
    if closed:
        status = backend().transition(key, config.current().jira_reopen_transition)
        ticket = require(Ticket, ticket_id)
        if status:
            ticket.status, ticket.closed, ticket.closed_at = status, False, None


@job("ack", TICKETS)
def ack(ticket_id: int, agent: str, message_id: int) -> None:
    """An agent's ACK by SMS: a comment, and the configured transition."""
    ticket = _created(ticket_id)
    key = ticket.jira_key
    post_note(ticket_id, key, f"Acknowledged by {agent} via SMS", dedupe=f"ack-{message_id}")
    name = config.current().jira_ack_transition
    status = backend().transition(key, name) if name else None
    ticket = require(Ticket, ticket_id)
    if status:
        ticket.status = status


@job("ticket_note", TICKETS)
def add_note(ticket_id: int | None, body: str, dedupe: str, key: str | None = None) -> None:
    """A note from supportbot itself (delivery failures, refusals) on a ticket, or on an
    issue that is not one (key alone)."""
    if ticket_id is not None:
        key = _created(ticket_id).jira_key
    post_note(ticket_id, key, body, dedupe=dedupe)
