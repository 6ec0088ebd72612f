"""One inbound message, in one transaction: store, route, act, remember the reply."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from supportbot import metrics
from supportbot.contacts import lock_contact
from supportbot.db_dialect import insert_for
from supportbot.extensions import db
from supportbot.inbound import actions
from supportbot.keywords import engine
from supportbot.keywords.schema import KeywordConfig
from supportbot.models import Message, utcnow
from supportbot.outbound.segments import count_segments
from supportbot.phone import mask, normalise
from supportbot.storable import storable, storable_json

log = logging.getLogger(__name__)


@dataclass
class InboundResult:
    reply: str | None
    message_id: int
    duplicate: bool
    outbox: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, kind)


def _insert_ignore(table: type, values: dict[str, object], index: list[str]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING.

    On Postgres a conflicting insert waits for the other transaction's commit,
    so a retried webhook racing the first delivery sees its stored reply.
    """
    return insert_for(table).values(**values).on_conflict_do_nothing(index_elements=index)


def _media(form: MultiDict[str, str]) -> list[dict[str, str]]:
    try:
        count = min(int(form.get("NumMedia", "0") or 0), 10)  # Twilio sends at most 10
    except ValueError:
        count = 0
    items = []
    for i in range(max(count, 0)):
        url = form.get(f"MediaUrl{i}")
        if url:
            items.append({"url": url, "content_type": form.get(f"MediaContentType{i}", "")})
    return items


def _segments(form: MultiDict[str, str], body: str) -> tuple[int, str]:
    counted = count_segments(body)
    try:
        given = int(form.get("NumSegments", "") or 0)
    except ValueError:
        given = 0
    # a concatenated SMS has at most 255 parts; anything else is not Twilio's count
    return (given if 0 < given <= 255 else counted.segments), counted.encoding


def handle(
    form: MultiDict[str, str], raw: bytes, config: KeywordConfig, commit: bool = True
) -> InboundResult:
    """Store and answer one inbound webhook; a repeated MessageSid changes nothing.

    With commit=False (keywords try) everything is rolled back: nothing changes.
    """
    sid = storable(form["MessageSid"])
    sender = storable(normalise(form["From"]))
    body = storable(form.get("Body", ""))
    segments, encoding = _segments(form, body)
    media = storable_json(_media(form))
    message_id = db.session.execute(
        _insert_ignore(
            Message,
            {
                "direction": "in",
                "sid": sid,
                "from_number": sender,
                "to_number": storable(form.get("To", "")),
                "body": body,
                "media": media,
                "num_segments": segments,
                "encoding": encoding,
                "raw_form": storable_json([[k, v] for k, v in form.items(multi=True)]),
                "raw_body": raw,
                "status": "received",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
            ["sid"],
        ).returning(Message.id)
    ).scalar()
    if message_id is None:
        db.session.rollback()
        stored = db.session.execute(sa.select(Message.id, Message.reply).where(Message.sid == sid)).one()
        log.info("inbound duplicate sid=%s", sid)
        metrics.inbound("duplicate", "duplicate")
        return InboundResult(stored.reply, stored.id, duplicate=True)

    contact = lock_contact(sender)
    message = actions.InboundMessage(id=message_id, sid=sid, body=body)
    match = engine.route(config, body, form.get("OptOutType"))
    outcome = actions.apply(
        actions.Context(
            config=config,
            match=match,
            message=message,
            contact=contact,
            raw=raw,
            twilio_replied=bool(form.get("OptOutType")),
        )
    )
    # one UPDATE with what routing decided (Core: no unit-of-work flush on the hot path)
    db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id)
        .values(
            contact_id=contact.id, ticket_id=message.ticket_id, route=match.route.action, reply=outcome.reply
        )
    )
    if not commit:
        db.session.rollback()
        # the outbox kinds say what would have happened; their ids were rolled back
        return InboundResult(outcome.reply, message_id, duplicate=False, outbox=outcome.outbox)
    db.session.commit()
    metrics.inbound(match.route.keyword, match.route.action)
    log.info(
        "inbound sid=%s from=%s route=%s segments=%d media=%d outbox=%d",
        sid,
        mask(sender),
        match.route.action,
        segments,
        len(media),
        len(outcome.outbox),
    )
    return InboundResult(outcome.reply, message_id, duplicate=False, outbox=outcome.outbox)
