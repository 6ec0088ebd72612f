"""The baseline for bench/inbound.py: validate the signature, answer TwiML, nothing else."""

from __future__ import annotations

import os

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
BASE = os.environ["PUBLIC_BASE_URL"]


@app.post("/twilio/inbound")
def inbound() -> Response:
    """Signature check and a fixed reply."""
    if not validator.validate(
        BASE + request.path, request.form, request.headers.get("X-Twilio-Signature", "")
    ):
        abort(403)
    resp = MessagingResponse()
    resp.message("Thanks! Ticket SB-1 is open; we'll text you here. Reply STOP to opt out.")
    return Response(str(resp), content_type="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
