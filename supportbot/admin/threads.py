"""Reading a contact's thread by keyset: the queries behind the conversation pages."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact, Message, Ticket
from supportbot.outbound import twilio_errors as errors
from supportbot.phone import normalise

PAGE = 50
# a search for fewer digits than this would match too many numbers to be useful
MIN_SUFFIX = 4


@dataclass(frozen=True)
class Entry:
    message: Message
    error_meaning: str | None


def find_contacts(q: str, limit: int = PAGE) -> list[Contact]:
    """A whole number (any format) or its last digits."""
    q = q.strip()
    digits = "".join(ch for ch in q if ch.isdigit())
    whole = normalise(q)
    if whole.startswith("+") and len(digits) >= 8:
        found = db.session.scalars(sa.select(Contact).where(Contact.phone == whole)).all()
        if found:
            return list(found)
    if len(digits) < MIN_SUFFIX:
        return []
    # a suffix match scans the contacts table: fine for a console search, never on a webhook path
    return list(
        db.session.scalars(
            sa.select(Contact)
            .where(Contact.phone.like(f"%{digits}"))
            .order_by(Contact.id.desc())
            .limit(limit)
        )
    )


def recent_contacts(before: int | None, limit: int = PAGE) -> list[Contact]:
    query = sa.select(Contact).order_by(Contact.id.desc()).limit(limit)
    if before is not None:
        query = query.where(Contact.id < before)
    return list(db.session.scalars(query))


def thread(contact: Contact, before: int | None, limit: int = PAGE) -> tuple[list[Entry], int | None]:
    """Up to `limit` messages older than `before`, oldest first, and the keyset for the next page.

    Inbound rows carry contact_id; outbound rows carry only to_number. Each side is
    read through its own index (contact_id, id) and (to_number, id), then merged.
    """
    inbound = sa.select(Message).where(Message.contact_id == contact.id)
    outbound = sa.select(Message).where(Message.to_number == contact.phone, Message.direction == "out")
    rows: list[Message] = []
    for query in (inbound, outbound):
        if before is not None:
            query = query.where(Message.id < before)
        rows.extend(db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    rows = sorted({m.id: m for m in rows}.values(), key=lambda m: m.id, reverse=True)
    more = len(rows) > limit
    page = rows[:limit]
    older = page[-1].id if more and page else None
    entries = [
        Entry(m, errors.lookup(m.error_code).meaning if m.error_code else None) for m in reversed(page)
    ]
    return entries, older


def consent_events(phone: str, limit: int = 100) -> list[ConsentEvent]:
    return list(
        db.session.scalars(
            sa.select(ConsentEvent)
            .where(ConsentEvent.phone == phone)
            .order_by(ConsentEvent.id.desc())
            .limit(limit)
        )
    )


def tickets_of(contact_id: int) -> list[Ticket]:
    return list(
        db.session.scalars(
            sa.select(Ticket).where(Ticket.contact_id == contact_id).order_by(Ticket.id.desc())
        )
    )
