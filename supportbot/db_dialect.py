"""The few statements that differ between Postgres (production) and SQLite (development)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from supportbot.extensions import db


def is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def insert_for(model: type) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that speaks ON CONFLICT, which both dialects have under the same names."""
    return (postgresql.insert if is_postgres() else sqlite.insert)(model)


def advisory_xact_lock(key: int | str) -> None:
    """A Postgres lock held until commit, on a number or on a string's hash.

    SQLite needs none: it has one writer at a time.
    """
    if not is_postgres():
        return
    if isinstance(key, int):
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
    else:
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
