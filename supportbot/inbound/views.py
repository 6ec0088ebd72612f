"""POST /twilio/inbound."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from supportbot.inbound import service
from supportbot.jobs.dispatch import dispatch
from supportbot.signing import require_signed_twilio_form

bp = Blueprint("inbound", __name__)

REQUIRED = ("MessageSid", "From")
# identifiers Twilio keeps far shorter than this; the columns hold 64
MAX_ID_LENGTH = {"MessageSid": 64, "From": 64, "To": 64}


def twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(str(resp), content_type="text/xml; charset=utf-8")


@bp.post("/twilio/inbound")
def inbound() -> Response:
    """Store an inbound SMS/MMS, route it, answer TwiML."""
    require_signed_twilio_form()
    for name in REQUIRED:
        if not request.form.get(name, "").strip():
            abort(400, description=f"missing form field {name}")
    for name, limit in MAX_ID_LENGTH.items():
        if len(request.form.get(name, "")) > limit:
            abort(400, description=f"form field {name} is longer than {limit} characters")
    result = service.handle(request.form, request.get_data(), current_app.extensions["keywords"].get())
    dispatch(result.outbox)
    return twiml(result.reply)
