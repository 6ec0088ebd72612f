"""POST /twilio/inbound."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from supportbot import jobs
from supportbot.inbound import service
from supportbot.signing import twilio_signature_ok

bp = Blueprint("inbound", __name__)

FORM_TYPE = "application/x-www-form-urlencoded"
REQUIRED = ("MessageSid", "From")
# identifiers Twilio keeps far shorter than this; the columns hold 64
MAX_ID_LENGTH = {"MessageSid": 64, "From": 64, "To": 64}


def twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(str(resp), content_type="text/xml; charset=utf-8")


def read_signed_form() -> None:
    """415, 413 and 403 in that order, before anything is stored."""
    if request.mimetype != FORM_TYPE:
        abort(415, description=f"Content-Type must be {FORM_TYPE}")
    request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not twilio_signature_ok(request):
        abort(403, description="X-Twilio-Signature is missing or does not match")


@bp.post("/twilio/inbound")
def inbound() -> Response:
    """Store an inbound SMS/MMS, route it, answer TwiML."""
    read_signed_form()
    for name in REQUIRED:
        if not request.form.get(name, "").strip():
            abort(400, description=f"missing form field {name}")
    for name, limit in MAX_ID_LENGTH.items():
        if len(request.form.get(name, "")) > limit:
            abort(400, description=f"form field {name} is longer than {limit} characters")
    result = service.handle(request.form, request.get_data(), current_app.extensions["keywords"].get())
    jobs.dispatch(result.outbox)
    return twiml(result.reply)
