"""Stage 1 on Postgres: one statement stores a text (and, deferred, the job that routes it).

Written once as SQL, not built per request: building and compiling a Core
statement with two CTEs cost more CPU than the round trip (pyinstrument, see
docs/operations.md). psycopg prepares it on the server after a few runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from supportbot import request_id
from supportbot.extensions import db
from supportbot.jobs.outbox import CHANNEL
from supportbot.models import Message

KIND = "route_inbound"  # the job that routes a deferred text (inbound/deferred.py)

_STORE = """
WITH new_message AS (
    INSERT INTO messages (direction, sid, from_number, to_number, body, media, num_segments,
                          encoding, raw_form, raw_body, status, created_at, updated_at)
    VALUES ('in', :sid, :from_number, :to_number, :body, :media, :num_segments,
            :encoding, :raw_form, :raw_body, 'deferred', :created_at, :created_at)
    ON CONFLICT (sid) DO NOTHING
    RETURNING id
), new_outbox AS (
    INSERT INTO outbox (kind, payload, state, attempts, created_at)
    SELECT '{kind}', json_build_object('message_id', id), 'pending', 0, :created_at FROM new_message
    RETURNING id, (payload ->> 'message_id')::bigint AS message_id
)
SELECT id, message_id{notify} FROM new_outbox
"""

_TYPES = (
    sa.bindparam("media", type_=sa.JSON),
    sa.bindparam("raw_form", type_=sa.JSON),
    sa.bindparam("raw_body", type_=sa.LargeBinary),
    sa.bindparam("created_at", type_=sa.DateTime(timezone=True)),
)
# with INBOUND_WAKE=notify the row announces itself at commit: no Redis in the request
STORE = {
    False: sa.text(_STORE.format(kind=KIND, notify="")).bindparams(*_TYPES),
    True: sa.text(
        _STORE.format(kind=KIND, notify=f", pg_notify('{CHANNEL}', id || ':' || '{KIND}' || ':' || :rid)")
    ).bindparams(*_TYPES),
}


def store(values: dict[str, object], notify: bool) -> tuple[int, int] | None:
    """(outbox id, message id) of the new rows, or None when the sid is stored already."""
    params: dict[str, object] = {k: values[k] for k in COLUMNS}
    if notify:
        params["rid"] = request_id.current() or ""  # carried into the job's log lines
    found = db.session.connection().execute(STORE[notify], params).first()
    return (int(found[0]), int(found[1])) if found is not None else None


COLUMNS = (
    "sid",
    "from_number",
    "to_number",
    "body",
    "media",
    "num_segments",
    "encoding",
    "raw_form",
    "raw_body",
    "created_at",
)

# inline: the message alone; the route follows in the same transaction
_INSERT = (
    postgresql.insert(Message)
    .values(
        direction="in",
        status="received",
        updated_at=sa.bindparam("p_created_at"),
        **{c: sa.bindparam(f"p_{c}") for c in COLUMNS},
    )
    .on_conflict_do_nothing(index_elements=["sid"])
    .returning(Message.id)
)


def insert(values: dict[str, object]) -> int | None:
    """The new message's id, or None when the sid is stored already (waits for a racing commit)."""
    params = {f"p_{c}": values[c] for c in COLUMNS}
    found = db.session.connection().execute(_INSERT, params).scalar()
    return int(found) if found is not None else None


# what routing decided, in one UPDATE
ROUTED = (
    sa.update(Message)
    .where(Message.id == sa.bindparam("p_id"))
    .values(
        contact_id=sa.bindparam("p_contact_id"),
        ticket_id=sa.bindparam("p_ticket_id"),
        route=sa.bindparam("p_route"),
        reply=sa.bindparam("p_reply"),
    )
)
