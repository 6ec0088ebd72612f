"""Appending to and reading the consent ledger. No code path updates or deletes rows.

The ledger, not the contacts.opted_out flag, decides whether a number may be
texted: the flag is a cache that `consent verify` checks against the chain.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from supportbot import metrics
from supportbot.consent.chain import FIELDS, GENESIS, first_broken, row_hash
from supportbot.db_dialect import advisory_xact_lock
from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact
from supportbot.phone import mask

log = logging.getLogger(__name__)

# one arbitrary constant: the advisory lock that serialises appends across processes
LEDGER_LOCK = 0x5B_C0_25_E7
_PENDING = "consent_checkpoint"  # session.info key: the checkpoint to publish after commit


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
    prev = db.session.execute(
        sa.select(ConsentEvent.hash, ConsentEvent.seq).order_by(ConsentEvent.id.desc()).limit(1)
    ).first()
    now = datetime.now(UTC)
    row = ConsentEvent(
        seq=(prev.seq if prev else 0) + 1,
        phone=contact.phone,
        event=event,
        source=source,
        # the keyword as matched (with OptOutType, the whole text): the request hash covers the rest
        keyword=keyword[:64] if keyword else None,
        message_sid=message_sid,
        request_hash=request_hash(raw_request),
        recorded_at=now.isoformat(),
        prev_hash=prev.hash if prev else GENESIS,
    )
    row.hash = row_hash(row.prev_hash, {f: getattr(row, f) for f in FIELDS})
    db.session.add(row)
    contact.opted_out = event == "opt_out"
    contact.consent_changed_at = now
    db.session.info[_PENDING] = (row.seq, row.hash)
    metrics.consent_event(event, source)
    return row


def newest_event(phone: str) -> sa.ScalarSelect[Any]:
    """The number's newest ledger event, as a subquery (answered from ix_consent_events_phone_id)."""
    return (
        sa.select(ConsentEvent.event)
        .where(ConsentEvent.phone == phone)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def opted_out(phone: str) -> bool:
    """Whether the ledger says the number opted out: its newest event is an opt-out."""
    return db.session.scalar(sa.select(newest_event(phone))) == "opt_out"


def rows(number: str | None = None) -> Iterator[ConsentEvent]:
    query = sa.select(ConsentEvent).order_by(ConsentEvent.id)
    if number:
        query = query.where(ConsentEvent.phone == number)
    result = db.session.scalars(query.execution_options(yield_per=1000))
    try:
        yield from result
    finally:
        result.close()  # a server-side cursor stays open until closed


@dataclass(frozen=True)
class Checkpoint:
    rows: int
    head: str

    def __str__(self) -> str:
        return f"{self.rows}:{self.head}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        count, _, head = text.partition(":")
        if not count.isdigit() or len(head) != 64:
            raise ValueError("a checkpoint is ROWS:HASH, e.g. 12:3f9a… (as `consent checkpoint` prints it)")
        return cls(int(count), head.lower())


def checkpoint() -> Checkpoint:
    """The ledger's current length and head hash, for an auditor to keep outside the database."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) or 0
    head = db.session.scalar(sa.select(ConsentEvent.hash).order_by(ConsentEvent.id.desc()).limit(1))
    return Checkpoint(count, head or GENESIS)


def verify(kept: Checkpoint | None = None) -> tuple[int, str] | None:
    """The first problem of the whole chain as (row id or position, reason), or None.

    With a kept checkpoint, also that the ledger still holds that prefix: row
    number `kept.rows` must carry `kept.head`, which commits to every row before it.
    """
    seen = 0
    found_head: str | None = None

    def walk() -> Iterator[dict[str, Any]]:
        nonlocal seen, found_head
        for r in rows():
            seen += 1
            if kept is not None and seen == kept.rows:
                found_head = r.hash
            yield {c: getattr(r, c) for c in ("id", "prev_hash", "hash", *FIELDS)}

    broken = first_broken(walk())
    if broken is not None or kept is None or kept.rows == 0:
        return broken
    if seen < kept.rows:
        return (
            kept.rows,
            f"the ledger holds {seen} rows but the checkpoint names {kept.rows}: it was cut short",
        )
    if found_head != kept.head:
        return kept.rows, f"row {kept.rows} does not carry the checkpoint's hash: the ledger was rewritten"
    return None


def disagreeing_contacts() -> list[tuple[int, str, bool]]:
    """Contacts whose cached opted_out flag disagrees with their newest ledger event."""
    newest = (
        sa.select(ConsentEvent.event)
        .where(ConsentEvent.phone == Contact.phone)
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .correlate(Contact)
        .scalar_subquery()
    )
    said = sa.func.coalesce(newest == "opt_out", sa.false())
    found = db.session.execute(
        sa.select(Contact.id, Contact.phone, Contact.opted_out).where(Contact.opted_out != said)
    ).all()
    return [(r.id, r.phone, r.opted_out) for r in found]


def problems(kept: Checkpoint | None = None) -> list[str]:
    """Every problem `consent verify` reports, one line each (numbers masked): the first
    broken row of the chain (or of the kept checkpoint), then each contact whose cached
    flag disagrees with the ledger. Empty when all is well."""
    found = []
    broken = verify(kept)
    if broken:
        found.append(f"consent ledger broken at row {broken[0]}: {broken[1]}")
    for contact_id, phone, flag in disagreeing_contacts():
        said = "opted in" if flag is False else "opted out"
        found.append(
            f"contact {contact_id} ({mask(phone)}) is marked {said} but the ledger says otherwise;"
            " sends follow the ledger"
        )
    return found


def _publish(session: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        # outside the database: log pipelines keep these, so a cut tail shows (README, auditors)
        log.info("consent checkpoint rows=%d head=%s", pending[0], pending[1])


def _forget(session: Any) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    if not sa.event.contains(db.session, "after_commit", _publish):
        sa.event.listen(db.session, "after_commit", _publish)
        sa.event.listen(db.session, "after_rollback", _forget)
