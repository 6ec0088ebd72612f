"""POST /twilio/status: every delivery receipt kept, and acted on."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, request

from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.dispatch import dispatch
from supportbot.models import Message, StatusCallback
from supportbot.outbound.pipeline import lock_sid, record_status
from supportbot.signing import require_signed_twilio_form
from supportbot.storable import storable, storable_json

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__)


def _error_code(value: str | None) -> int | None:
    """Twilio's error codes are five digits; anything else is kept only in raw_form."""
    try:
        code = int(value) if value else None
    except ValueError:
        return None
    return code if code is not None and 0 < code < 1_000_000 else None


@bp.post("/twilio/status")
def status_callback() -> Response:
    """Store the callback; move the message's status forward; note failures on the ticket."""
    require_signed_twilio_form()
    form = request.form
    sid = form.get("MessageSid", "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        abort(400, description="missing form field " + ("MessageSid" if not sid else "MessageStatus"))
    if len(sid) > 64 or len(status) > 32:
        abort(400, description="MessageSid or MessageStatus is too long")
    if "\x00" in sid + status:
        abort(400, description="MessageSid or MessageStatus holds a NUL character")
    code = _error_code(form.get("ErrorCode"))
    with outbox.collecting() as work:
        lock_sid(sid)
        db.session.add(
            StatusCallback(
                message_sid=storable(sid),
                status=storable(status),
                error_code=code,
                raw_dlr_done_date=storable(form.get("RawDlrDoneDate", ""))[:32] or None,
                raw_form=storable_json([[k, v] for k, v in form.items(multi=True)]),
            )
        )
        # one writer per message: callbacks for it arrive in parallel and in any order
        msg = db.session.scalars(sa.select(Message).where(Message.sid == sid).with_for_update()).first()
        if msg is not None:
            record_status(msg, status, code)
        db.session.commit()
    dispatch(work)
    log.info("status sid=%s status=%s code=%s known=%s", sid, status, code or "-", msg is not None)
    return Response(status=204)
