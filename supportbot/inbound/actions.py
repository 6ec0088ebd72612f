"""The action registry: what each keyword action does inside the inbound transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from supportbot import config
from supportbot.consent import ledger
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.keywords import engine
from supportbot.keywords.engine import Match, TicketArg
from supportbot.keywords.schema import KeywordConfig
from supportbot.models import Contact, Ticket, as_utc, utcnow
from supportbot.tickets import reopen

DEFAULT_ACK_USAGE = "Text ACK and a ticket number, e.g. ACK SB-12."
DEFAULT_STATUS_USAGE = "Text STATUS and your ticket number, e.g. STATUS SB-12."


@dataclass
class InboundMessage:
    """The stored message as the actions see it; service.handle writes ticket_id back."""

    id: int
    sid: str
    body: str
    ticket_id: int | None = None


@dataclass
class Context:
    config: KeywordConfig
    match: Match
    message: InboundMessage
    contact: Contact
    raw: bytes
    twilio_replied: bool  # the request carried OptOutType: Twilio already answered


@dataclass
class Outcome:
    reply: str | None
    outbox: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, kind)


def _consent_reply(ctx: Context) -> str | None:
    # Twilio answers STOP/START/HELP itself unless told otherwise; never twice
    if ctx.twilio_replied or ctx.config.twilio_answers_keywords:
        return None
    return engine.render(ctx.match.route.reply, ctx.config)


def _consent(ctx: Context, event: str) -> Outcome:
    ledger.append(
        ctx.contact,
        event=event,
        source="twilio" if ctx.twilio_replied else "keyword",
        keyword=ctx.match.word,
        message_sid=ctx.message.sid,
        raw_request=ctx.raw,
    )
    return Outcome(_consent_reply(ctx))


def opt_out(ctx: Context) -> Outcome:
    return _consent(ctx, "opt_out")


def opt_in(ctx: Context) -> Outcome:
    return _consent(ctx, "opt_in")


def help_(ctx: Context) -> Outcome:
    return Outcome(_consent_reply(ctx))


def reply(ctx: Context) -> Outcome:
    return Outcome(engine.render(ctx.match.route.reply, ctx.config))


def _fields(ticket: Ticket) -> SimpleNamespace:
    return engine.ticket_fields(ticket.ref, ticket.jira_key, ticket.status)


# built once: the hot path's statements cost more to build than to run (see docs/operations.md)
_NEW_TICKET = (
    sa.insert(Ticket)
    .values(
        contact_id=sa.bindparam("p_contact"),
        summary=sa.bindparam("p_summary"),
        status="Open",
        closed=False,
        create_state="pending",
        status_at=0,
        created_at=sa.bindparam("p_now"),
        updated_at=sa.bindparam("p_now"),
    )
    .returning(Ticket.id)
)
_CURRENT_TICKET = (
    sa.select(Ticket)
    .where(Ticket.contact_id == sa.bindparam("p_contact"))
    .order_by(Ticket.id.desc())
    .limit(1)
)


def ticket(ctx: Context) -> Outcome:
    """Open a ticket, or join the contact's current one (open, or closed within the window)."""
    window = timedelta(hours=config.current().reopen_window_hours)
    current = db.session.scalars(_CURRENT_TICKET, {"p_contact": ctx.contact.id}).first()
    closed_at = as_utc(current.closed_at) if current is not None and current.closed_at else None
    if current is not None and reopen.joins(current.closed, closed_at, datetime.now(UTC), window):
        ctx.message.ticket_id = current.id
        reopened = current.closed
        ids = [outbox.add("comment", ticket_id=current.id, message_id=ctx.message.id)]
        # a follow-up to an open ticket gets no reply: one confirmation per ticket, not per text
        text = engine.render(ctx.match.route.reply, ctx.config, _fields(current)) if reopened else None
        return Outcome(text, ids)
    now = utcnow()
    new_id = (
        db.session.connection()
        .execute(
            _NEW_TICKET, {"p_contact": ctx.contact.id, "p_summary": _summary(ctx.message.body), "p_now": now}
        )
        .scalar_one()
    )
    ctx.message.ticket_id = new_id
    ids = [outbox.add("create_ticket", ticket_id=new_id, message_id=ctx.message.id)]
    text = engine.render(
        ctx.match.route.reply, ctx.config, engine.ticket_fields(f"SB-{new_id}", None, "Open")
    )
    return Outcome(text, ids)


def _summary(body: str, words: int = 12) -> str:
    text = " ".join(body.split()[:words]) or "(media only)"
    return text[:250]


def _find(arg: TicketArg, contact_id: int | None) -> Ticket | None:
    query = sa.select(Ticket)
    if arg.ref_id is not None:
        query = query.where(Ticket.id == arg.ref_id)
    else:
        query = query.where(Ticket.jira_key == arg.jira_key)
    if contact_id is not None:
        query = query.where(Ticket.contact_id == contact_id)
    return db.session.scalars(query).first()


def _usage(ctx: Context, fallback: str) -> str:
    return engine.render(ctx.match.route.usage, ctx.config) or fallback


def ticket_status(ctx: Context) -> Outcome:
    """Answered from the database alone, and only for the sender's own tickets."""
    arg = engine.parse_ticket_arg(ctx.match.args)
    found = _find(arg, ctx.contact.id) if arg else None
    if found is None:
        return Outcome(_usage(ctx, DEFAULT_STATUS_USAGE))
    return Outcome(engine.render(ctx.match.route.reply, ctx.config, _fields(found)))


def ack(ctx: Context) -> Outcome:
    """Agents acknowledge any ticket; anyone else gets the usage text and nothing happens."""
    allowed = ctx.match.route.allow != "agents" or ctx.contact.phone in ctx.config.agents
    arg = engine.parse_ticket_arg(ctx.match.args)
    found = _find(arg, None) if (allowed and arg) else None
    if found is None:
        return Outcome(_usage(ctx, DEFAULT_ACK_USAGE))
    found.acked_by = ctx.contact.phone
    found.acked_at = datetime.now(UTC)
    ids = [outbox.add("ack", ticket_id=found.id, agent=ctx.contact.phone, message_id=ctx.message.id)]
    return Outcome(engine.render(ctx.match.route.reply, ctx.config, _fields(found)), ids)


REGISTRY: dict[str, Callable[[Context], Outcome]] = {
    "reply": reply,
    "opt_out": opt_out,
    "opt_in": opt_in,
    "help": help_,
    "ticket": ticket,
    "ticket_status": ticket_status,
    "ack": ack,
}


# the only replies an opted-out number may get: the opt-out confirmation and HELP
REPLY_WHILE_OPTED_OUT = frozenset({"opt_out", "help"})


def apply(ctx: Context) -> Outcome:
    outcome = REGISTRY[ctx.match.route.action](ctx)
    if ctx.contact.opted_out and ctx.match.route.action not in REPLY_WHILE_OPTED_OUT:
        # an opted-out sender still reaches support (the ticket), but is never texted back
        outcome.reply = None
    return outcome
