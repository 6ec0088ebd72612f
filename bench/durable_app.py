"""The floor for bench/inbound.py: what no correct webhook can skip.

Validate the signature with the twilio library, store the raw request in one
INSERT unique on MessageSid (a repeat changes nothing), answer TwiML.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

app = Flask(__name__)
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
BASE = os.environ["PUBLIC_BASE_URL"]
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=20, max_overflow=0)
INSERT = sa.text(
    "INSERT INTO durable_inbound (sid, from_number, body, raw, created_at)"
    " VALUES (:sid, :from_number, :body, :raw, now()) ON CONFLICT (sid) DO NOTHING"
)


@app.post("/twilio/inbound")
def inbound() -> Response:
    """Signature, one durable insert, empty TwiML."""
    if not validator.validate(
        BASE + request.path, request.form, request.headers.get("X-Twilio-Signature", "")
    ):
        abort(403)
    form = request.form
    with engine.begin() as conn:
        conn.execute(
            INSERT,
            {
                "sid": form["MessageSid"],
                "from_number": form["From"],
                "body": form.get("Body", ""),
                "raw": request.get_data(),
            },
        )
    return Response(str(MessagingResponse()), content_type="text/xml")


@app.get("/healthz")
def healthz() -> str:
    return "ok"
