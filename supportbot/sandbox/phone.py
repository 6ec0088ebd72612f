"""The dev phone (development only): play the customer, text the bot, watch replies arrive.

A text typed here is posted to our own /twilio/inbound over HTTP, signed exactly as
Twilio signs (the twilio library computes it), so it takes the production path.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parses only our own server's TwiML
from typing import Any

import requests
import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from twilio.request_validator import RequestValidator

from supportbot import config
from supportbot.admin import threads
from supportbot.extensions import csrf, db
from supportbot.models import Contact
from supportbot.phone import normalise

bp = Blueprint(
    "phone",
    __name__,
    url_prefix="/sandbox/phone",
    template_folder="templates",
    static_folder="static",
)
MAX_TEXT = 1600


@bp.before_request
def check_csrf() -> None:
    if request.method == "POST":
        csrf.protect()


def _base_url() -> str:
    return (config.current().public_base_url or request.host_url).rstrip("/")


def twiml_text(xml: str) -> str | None:
    """The <Message> text of a TwiML answer, or None for an empty <Response/>."""
    try:
        root = ET.fromstring(xml)  # noqa: S314 - our own answer, a few hundred bytes
    except ET.ParseError:
        return None
    texts = [m.text or "" for m in root.iter("Message")]
    return "\n".join(texts) if texts else None


@bp.get("")
def phone() -> str:
    """The phone: From, Message, Send, and the thread."""
    return render_template("sandbox/phone.html", default_from="+14155550123")


@bp.post("/send")
def send() -> tuple[Response, int] | Response:
    """Sign the text as Twilio would and post it to /twilio/inbound; answer with the TwiML reply."""
    sender = normalise(request.form.get("from", ""))
    body = request.form.get("message", "")
    if not sender.startswith("+") or not sender[1:].isdigit():
        return jsonify(error="From must be a phone number, e.g. +14155550123"), 400
    if not body.strip() or len(body) > MAX_TEXT:
        return jsonify(error=f"Message must have 1 to {MAX_TEXT} characters"), 400
    url = _base_url() + "/twilio/inbound"
    form = {
        "ApiVersion": "2010-04-01",
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": config.current().twilio_account_sid,
        "From": sender,
        "To": config.current().twilio_from_number or "",
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
    }
    signature = RequestValidator(config.current().twilio_auth_token or "").compute_signature(url, form)
    try:
        answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=15)
    except requests.RequestException as exc:
        return jsonify(error=f"could not reach {url} ({exc.__class__.__name__})"), 502
    if answer.status_code != 200:
        return jsonify(error=f"/twilio/inbound answered {answer.status_code}: {answer.text[:200]}"), 502
    return jsonify(sid=form["MessageSid"], reply=twiml_text(answer.text))


def _sandbox_sids() -> set[str] | None:
    """Sids the in-process Twilio sandbox accepted; None when it runs elsewhere."""
    sandbox_app = current_app.extensions.get("twilio_sandbox_app")
    if sandbox_app is None:
        return None
    state = sandbox_app.extensions["twilio_sandbox"]
    with state.lock:
        return {m["sid"] for m in state.messages}


@bp.get("/thread")
def thread() -> Response:
    """The number's texts, the bot's TwiML replies, and every SMS sent to it with its status."""
    number = normalise(request.args.get("from", ""))
    contact = db.session.scalars(sa.select(Contact).where(Contact.phone == number)).first()
    if contact is None:
        return jsonify(number=number, items=[])
    entries, _ = threads.thread(contact, None, limit=100)
    accepted = _sandbox_sids()
    items: list[dict[str, Any]] = []
    for e in entries:
        m = e.message
        if m.direction == "in":
            items.append({"id": m.id, "kind": "in", "body": m.body, "at": m.created_at.isoformat()})
            if m.reply:
                items.append(
                    {"id": f"{m.id}r", "kind": "twiml", "body": m.reply, "at": m.created_at.isoformat()}
                )
            continue
        items.append(
            {
                "id": m.id,
                "kind": "sms",
                "body": m.body,
                "at": m.created_at.isoformat(),
                "status": m.status,
                "error": (f"{m.error_code}: {e.error_meaning}" if m.error_code else m.error_detail) or None,
                "sid": m.sid,
                "sandbox_accepted": (m.sid in accepted) if (accepted is not None and m.sid) else None,
            }
        )
    db.session.rollback()
    return jsonify(number=number, opted_out=contact.opted_out, items=items)
