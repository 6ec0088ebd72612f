"""Contacts: one row per phone number, locked while a request or job changes it."""

from __future__ import annotations

from sqlalchemy.orm.attributes import set_committed_value

from supportbot.consent import ledger
from supportbot.db_dialect import insert_for
from supportbot.extensions import db
from supportbot.models import Contact, utcnow


def lock_contact(phone: str) -> Contact:
    """The contact row, created if new and locked until commit (one writer per contact).

    ON CONFLICT DO UPDATE takes the row lock and returns the row in one round trip,
    with the number's newest ledger event: the ledger, not the stored flag, says
    whether it opted out (a flag changed outside the chain is ignored here, and
    `consent verify` reports it).
    """
    stmt = insert_for(Contact).values(phone=phone, opted_out=False, created_at=utcnow())
    stmt = stmt.on_conflict_do_update(index_elements=["phone"], set_={"phone": stmt.excluded.phone})
    contact, newest = db.session.execute(
        stmt.returning(Contact, ledger.newest_event(phone)), execution_options={"populate_existing": True}
    ).one()
    set_committed_value(contact, "opted_out", newest == "opt_out")
    return contact
