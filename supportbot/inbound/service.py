"""One inbound message: store it (stage 1), then route and act (stage 2) now or in a worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from supportbot import config as app_config
from supportbot import metrics
from supportbot.contacts import lock_contact
from supportbot.db_dialect import insert_for, is_postgres
from supportbot.extensions import db
from supportbot.inbound import accept, actions
from supportbot.jobs import outbox
from supportbot.keywords import engine
from supportbot.keywords.schema import KeywordConfig
from supportbot.models import Message, utcnow
from supportbot.outbound.segments import count_segments
from supportbot.phone import mask, normalise
from supportbot.storable import storable, storable_json

log = logging.getLogger(__name__)

ROUTE_KIND = accept.KIND


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


# consent changes are answered and recorded at once, however busy the process is
ALWAYS_INLINE = frozenset({"opt_out", "opt_in", "help"})
DEFERRED = "deferred"  # a stored text's status while a worker routes it; its answer goes by SMS


def _values(form: MultiDict[str, str], raw: bytes, sid: str, sender: str, body: str) -> dict[str, object]:
    segments, encoding = _segments(form, body)
    now = utcnow()
    return {
        "direction": "in",
        "sid": sid,
        "from_number": sender,
        "to_number": storable(form.get("To", "")),
        "body": body,
        "media": storable_json(_media(form)),
        "num_segments": segments,
        "encoding": encoding,
        "raw_form": storable_json([[k, v] for k, v in form.items(multi=True)]),
        "raw_body": raw,
        "status": "received",
        "created_at": now,
        "updated_at": now,
    }


def handle(
    form: MultiDict[str, str], raw: bytes, config: KeywordConfig, commit: bool = True, defer: bool = False
) -> InboundResult:
    """Store and answer one inbound webhook; a repeated MessageSid changes nothing.

    With defer=True (the process is overloaded) a text other than STOP/START/HELP is
    only stored, with an outbox row for a worker to route it (deferred.route_inbound).
    With commit=False (keywords try) everything is rolled back: nothing changes.
    """
    sid = storable(form["MessageSid"])
    sender = storable(normalise(form["From"]))
    body = storable(form.get("Body", ""))
    values = _values(form, raw, sid, sender, body)
    # pure and cheap: decides whether this text may wait for a worker
    match = engine.route(config, body, form.get("OptOutType"))
    if defer and commit and match.route.action not in ALWAYS_INLINE:
        return _defer(values)
    if is_postgres():
        message_id = accept.insert(values)
    else:
        message_id = db.session.execute(
            _insert_ignore(Message, values, ["sid"]).returning(Message.id)
        ).scalar()
    if message_id is None:
        return _duplicate(sid)
    # with INBOUND_WAKE=notify the rows written here wake a worker at commit: no enqueue after
    notify = commit and _wake_by_notify()
    with outbox.notifying(notify):
        outcome, _ = route(config, match, message_id, sid, sender, body, raw, bool(form.get("OptOutType")))
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
        values["num_segments"],
        len(_media(form)),
        len(outcome.outbox),
    )
    work = [] if notify and is_postgres() else outcome.outbox
    return InboundResult(outcome.reply, message_id, duplicate=False, outbox=work)


def _wake_by_notify() -> bool:
    # without Redis there is no worker: dispatch runs the work in this process
    settings = app_config.current()
    return settings.inbound_wake == "notify" and bool(settings.redis_url)


def _duplicate(sid: str) -> InboundResult:
    db.session.rollback()
    stored = db.session.execute(
        sa.select(Message.id, Message.reply, Message.status).where(Message.sid == sid)
    ).one()
    log.info("inbound duplicate sid=%s", sid)
    metrics.inbound("duplicate", "duplicate")
    # a deferred text was answered with empty TwiML and its reply goes by SMS: never twice
    return InboundResult(None if stored.status == DEFERRED else stored.reply, stored.id, duplicate=True)


def _defer(values: dict[str, object]) -> InboundResult:
    """Stage 1 alone: the message and its routing job, in one statement on Postgres."""
    notify = False
    # relay: the deferred row waits for a worker's relay pass (no wake-up cost per text)
    relay = app_config.current().inbound_wake == "relay"
    if is_postgres():
        notify = _wake_by_notify()
        found = accept.store(values, notify)
    else:
        new_id = db.session.execute(
            _insert_ignore(Message, {**values, "status": DEFERRED}, ["sid"]).returning(Message.id)
        ).scalar()
        found = (outbox.add(ROUTE_KIND, message_id=new_id)[0], new_id) if new_id is not None else None
    if found is None:
        return _duplicate(str(values["sid"]))
    db.session.commit()
    outbox_id, message_id = found
    metrics.inbound("deferred", "deferred")
    log.info("inbound sid=%s from=%s deferred", values["sid"], mask(str(values["from_number"])))
    # a notified row needs no enqueue: a worker's listener has it at commit
    return InboundResult(
        None, message_id, duplicate=False, outbox=[] if notify or relay else [(outbox_id, ROUTE_KIND)]
    )


def route(
    config: KeywordConfig,
    match: engine.Match,
    message_id: int,
    sid: str,
    sender: str,
    body: str,
    raw: bytes,
    twilio_replied: bool,
) -> tuple[actions.Outcome, int | None]:
    """Stage 2, in the caller's transaction: lock the contact, act, record the route.

    Returns the outcome and the message's ticket id; the caller commits.
    """
    contact = lock_contact(sender)
    message = actions.InboundMessage(id=message_id, sid=sid, body=body)
    outcome = actions.apply(
        actions.Context(
            config=config,
            match=match,
            message=message,
            contact=contact,
            raw=raw,
            twilio_replied=twilio_replied,
        )
    )
    # one UPDATE with what routing decided (Core: no unit-of-work flush on the hot path)
    db.session.connection().execute(
        accept.ROUTED,
        {
            "p_id": message_id,
            "p_contact_id": contact.id,
            "p_ticket_id": message.ticket_id,
            "p_route": match.route.action,
            "p_reply": outcome.reply,
        },
    )
    return outcome, message.ticket_id
