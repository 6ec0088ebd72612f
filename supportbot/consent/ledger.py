"""Appending to and reading the consent ledger. No code path updates or deletes rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa

from supportbot import metrics
from supportbot.consent.chain import FIELDS, GENESIS, first_broken, row_hash
from supportbot.dbutil import advisory_xact_lock
from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact

# one arbitrary constant: the advisory lock that serialises appends across processes
LEDGER_LOCK = 0x5B_C0_25_E7


def request_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def append(
    contact: Contact,
    event: str,
    source: str,
    keyword: str | None,
    message_sid: str | None,
    raw_request: bytes,
) -> ConsentEvent:
    """Record a consent change and apply it to the contact, in the caller's transaction."""
    # appends from every process take turns until their commit, so the chain is linear
    advisory_xact_lock(LEDGER_LOCK)
    prev = db.session.scalar(sa.select(ConsentEvent.hash).order_by(ConsentEvent.id.desc()).limit(1))
    now = datetime.now(UTC)
    row = ConsentEvent(
        phone=contact.phone,
        event=event,
        source=source,
        # the keyword as matched (with OptOutType, the whole text): the request hash covers the rest
        keyword=keyword[:64] if keyword else None,
        message_sid=message_sid,
        request_hash=request_hash(raw_request),
        recorded_at=now.isoformat(),
        prev_hash=prev or GENESIS,
    )
    row.hash = row_hash(row.prev_hash, {f: getattr(row, f) for f in FIELDS})
    db.session.add(row)
    contact.opted_out = event == "opt_out"
    contact.consent_changed_at = now
    metrics.consent_event(event, source)
    return row


def rows(number: str | None = None) -> Iterator[ConsentEvent]:
    query = sa.select(ConsentEvent).order_by(ConsentEvent.id)
    if number:
        query = query.where(ConsentEvent.phone == number)
    result = db.session.scalars(query.execution_options(yield_per=1000))
    try:
        yield from result
    finally:
        result.close()  # a server-side cursor stays open until closed


def verify() -> tuple[int, str] | None:
    """The first broken row of the whole chain, or None."""
    as_dicts = ({c: getattr(r, c) for c in ("id", "prev_hash", "hash", *FIELDS)} for r in rows())
    return first_broken(as_dicts)
