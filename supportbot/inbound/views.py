"""POST /twilio/inbound."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from supportbot import config
from supportbot.inbound import admission, service
from supportbot.jobs.dispatch import dispatch
from supportbot.signing import require_signed_twilio_form

bp = Blueprint("inbound", __name__)

REQUIRED = ("MessageSid", "From")
# identifiers Twilio keeps far shorter than this; the columns hold 64
MAX_ID_LENGTH = {"MessageSid": 64, "From": 64, "To": 64}
# inbound webhooks inside this process now: the pressure that decides inline or deferred
IN_FLIGHT = admission.InFlight()


def twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(str(resp), content_type="text/xml; charset=utf-8")


@bp.post("/twilio/inbound")
def inbound() -> Response:
    """Store an inbound SMS/MMS, route it now (or in a worker when busy), answer TwiML."""
    require_signed_twilio_form()
    for name in REQUIRED:
        if not request.form.get(name, "").strip():
            abort(400, description=f"missing form field {name}")
    for name, limit in MAX_ID_LENGTH.items():
        if len(request.form.get(name, "")) > limit:
            abort(400, description=f"form field {name} is longer than {limit} characters")
    settings = config.current()
    with IN_FLIGHT.entered() as in_flight:
        # a client could forge X-Request-Start: it is read only behind a trusted proxy
        waited = (
            admission.queued_ms(request.headers.get("X-Request-Start")) if settings.trusted_proxies else None
        )
        # without Redis there is no worker: a deferred text would be routed here anyway
        defer = bool(settings.redis_url) and admission.overloaded(
            in_flight, settings.inbound_inline_limit, waited, settings.inbound_defer_after_ms
        )
        keywords = current_app.extensions["keywords"].get()
        result = service.handle(request.form, request.get_data(), keywords, defer=defer)
        dispatch(result.outbox)
    return twiml(result.reply)
