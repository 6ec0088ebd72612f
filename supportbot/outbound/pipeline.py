"""The one outbound pipeline: every SMS the system sends goes through send_one()."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import requests
import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request
from twilio.base.exceptions import TwilioRestException

from supportbot import config, metrics, twilio_client
from supportbot.consent import ledger
from supportbot.contacts import lock_contact
from supportbot.db_dialect import advisory_xact_lock
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.errors import PermanentError, RetryLater
from supportbot.models import Message, StatusCallback
from supportbot.outbound import delivery
from supportbot.outbound import twilio_errors as errors
from supportbot.outbound.parts import split_parts
from supportbot.outbound.ratelimit import RateLimited, SenderRate
from supportbot.outbound.segments import count_segments
from supportbot.phone import is_e164, mask

log = logging.getLogger(__name__)
# statuses a callback settles a message in, counted once each (a later "read" is not)
COUNTED_FINAL = frozenset({"delivered", "undelivered", "failed", "canceled"})


def queue_sms(
    to: str, body: str, key: str, ticket_id: int | None, comment_id: str | None = None
) -> list[int]:
    """Write the outbound message rows for a text (one per part), in the caller's transaction.

    Idempotent on `key`: a second call with the same key returns the same rows.
    """
    # exact keys, so that the unique index answers (a LIKE prefix would scan the table)
    parts_known = db.session.scalar(sa.select(Message.parts).where(Message.idempotency_key == f"{key}#1"))
    if parts_known is not None:
        keys = [f"{key}#{i}" for i in range(1, parts_known + 1)]
        return list(
            db.session.scalars(
                sa.select(Message.id).where(Message.idempotency_key.in_(keys)).order_by(Message.part)
            )
        )
    parts = split_parts(body)
    ids = []
    for i, part in enumerate(parts, 1):
        seg = count_segments(part)
        msg = Message(
            direction="out",
            idempotency_key=f"{key}#{i}",
            to_number=to,
            from_number=sender(),
            body=part,
            ticket_id=ticket_id,
            comment_id=comment_id,
            part=i,
            parts=len(parts),
            num_segments=seg.segments,
            encoding=seg.encoding,
            status="pending",
        )
        db.session.add(msg)
        db.session.flush()
        ids.append(msg.id)
    return ids


def init_app(app: Flask) -> None:
    """The per-sender rate limit, shared by every worker through this process's Redis."""
    if "redis" in app.extensions:
        settings = app.extensions["settings"]
        app.extensions["sender_rate"] = SenderRate(app.extensions["redis"], settings.outbound_mps)


def sender() -> str:
    return config.current().sender


def callback_url() -> str | None:
    base = config.current().public_base_url
    if not base and has_request_context():
        base = request.url_root.rstrip("/")
    if not base:
        log.warning("PUBLIC_BASE_URL is not set: sending without a StatusCallback (no delivery receipts)")
        return None
    return f"{base}/twilio/status"


def _note(msg: Message, text: str, tag: str) -> None:
    if msg.ticket_id is not None:
        outbox.add("ticket_note", ticket_id=msg.ticket_id, body=text, dedupe=f"{tag}-{msg.id}")


def send_one(message_id: int) -> None:
    """Send one outbound message, at most once; raises RetryLater for what a retry can fix."""
    msg = db.session.get(Message, message_id)
    if msg is None:
        raise PermanentError(f"no message {message_id}: it is gone")
    if msg.sid or msg.status in delivery.FINAL:
        return  # sent already, or settled for good
    if msg.status == "sending_api":
        # an earlier attempt's request may have reached Twilio: never blindly resend
        _maybe_sent(msg, "the send was interrupted")
        return
    who = mask(msg.to_number)
    if not is_e164(msg.to_number):
        _settle(msg, "failed", None, f"not sent: {who} is not a valid E.164 number")
        return
    # the ledger decides, not a flag that could be changed outside the chain
    if ledger.opted_out(msg.to_number):
        _settle(msg, "blocked", None, f"not sent: {who} has opted out (texted STOP)")
        return
    limiter: SenderRate | None = current_app.extensions.get("sender_rate")
    if limiter is not None:
        try:
            limiter.acquire(msg.from_number or sender(), msg.num_segments)
        except RateLimited as exc:
            metrics.rate_limit_deferred()
            raise RetryLater(str(exc), max(1, round(exc.seconds))) from exc
    msg.status = "sending_api"
    db.session.commit()  # from here on a retry knows the request may have gone out
    _call_twilio(msg)


def _call_twilio(msg: Message) -> None:
    settings = config.current()
    params = {"to": msg.to_number, "body": msg.body}
    if settings.twilio_messaging_service_sid:
        params["messaging_service_sid"] = settings.twilio_messaging_service_sid
    else:
        params["from_"] = settings.twilio_from_number or ""
    url = callback_url()
    if url:
        params["status_callback"] = url
    started = time.perf_counter()
    try:
        sent = twilio_client.client().messages.create(**params)
    except TwilioRestException as exc:
        outcome = f"http_{exc.status // 100}xx" if exc.status else "error"
        metrics.twilio_send(outcome, time.perf_counter() - started)
        _twilio_error(msg, exc)
        return
    except requests.RequestException as exc:
        outcome = "timeout" if isinstance(exc, requests.Timeout) else "unreachable"
        metrics.twilio_send(outcome, time.perf_counter() - started)
        if errors.reached_nobody(exc):
            msg.status = "pending"
            db.session.commit()
            raise RetryLater(f"Twilio unreachable ({exc.__class__.__name__})") from exc
        why = "Twilio did not answer in time" if isinstance(exc, requests.Timeout) else "the connection broke"
        _maybe_sent(msg, f"{why} ({exc.__class__.__name__})")
        return
    metrics.twilio_send("accepted", time.perf_counter() - started)
    msg.sid = sent.sid
    msg.status = delivery.advance("sending_api", sent.status or "queued")
    lock_sid(msg.sid)
    apply_stored_callbacks(msg)
    log.info(
        "sms sent id=%s sid=%s to=%s segments=%d", msg.id, msg.sid, mask(msg.to_number), msg.num_segments
    )


def _twilio_error(msg: Message, exc: TwilioRestException) -> None:
    info = errors.lookup(exc.code, exc.status)
    msg.error_code = info.code or None
    msg.error_detail = info.meaning
    if info.action == errors.RETRY:
        msg.status = "pending"
        db.session.commit()
        raise RetryLater(f"Twilio {info.code}: {info.meaning}") from exc
    if info.action == errors.MAYBE_SENT:
        _maybe_sent(msg, info.meaning)
        return
    if info.action == errors.OPTED_OUT:
        contact = lock_contact(msg.to_number)
        ledger.append(contact, "opt_out", "carrier", None, None, f"twilio-error-21610:{msg.id}".encode())
    _settle(msg, "failed", info.code, f"not sent to {mask(msg.to_number)}: error {info.code}, {info.meaning}")


def _maybe_sent(msg: Message, why: str) -> None:
    """The request may have reached Twilio: never resent automatically; the agent decides."""
    _settle(
        msg,
        "unknown",
        None,
        f"SMS to {mask(msg.to_number)} may have been sent: {why}. It was not resent, so that the"
        " customer never gets it twice. Check the message log in the Twilio console (or ask the"
        " customer); if it did not arrive, post the reply again",
    )


def _settle(msg: Message, status: str, code: int | None, note: str) -> None:
    msg.status = status
    if code:
        msg.error_code = code
    msg.error_detail = note
    metrics.outbound_final(status, metrics.error_code_label(code, errors.KNOWN_CODES))
    _note(msg, f"supportbot: {note}.", "send")
    log.info("sms id=%s settled %s%s", msg.id, status, f" ({code})" if code else "")


def lock_sid(sid: str) -> None:
    """Serialise the send job's commit of a sid with callbacks for that sid.

    Without it a callback could arrive between the job reading stored callbacks
    and committing the sid, and neither would see the other.
    """
    advisory_xact_lock(sid)


def apply_stored_callbacks(msg: Message) -> None:
    """Callbacks that arrived before we knew the sid (Twilio can be that fast)."""
    stored = db.session.scalars(
        sa.select(StatusCallback).where(StatusCallback.message_sid == msg.sid).order_by(StatusCallback.id)
    ).all()
    for cb in stored:
        record_status(msg, cb.status, cb.error_code)


def record_status(msg: Message, reported: str, error_code: int | None) -> None:
    """Move a message's status forward; note a failure once, and a delivery when asked to."""
    before = msg.status
    after = delivery.advance(before, reported)
    if after == before:
        return
    msg.status = after
    msg.updated_at = datetime.now(UTC)
    if after in COUNTED_FINAL:
        code = error_code if after in delivery.FAILED else None
        metrics.outbound_final(after, metrics.error_code_label(code, errors.KNOWN_CODES))
    if after in delivery.FAILED:
        info = errors.lookup(error_code)
        msg.error_code = error_code
        msg.error_detail = info.meaning
        _note(
            msg,
            f"supportbot: SMS to {mask(msg.to_number)} {after}: error {error_code}, {info.meaning}.",
            "dlr",
        )
    elif after == "delivered" and msg.ticket_id is not None:
        if config.current().delivery_receipts != "off":
            outbox.add("delivery_receipt", message_id=msg.id)
