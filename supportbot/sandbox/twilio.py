"""A Twilio stand-in: the Messages API that supportbot uses, and its status callbacks.

The real twilio client reaches it through TWILIO_API_BASE_URL. It answers with
the shapes of Twilio's spec (api.v2010.account.message, and the error object
{code, message, more_info, status}), honours Twilio's magic test numbers, answers
429/20429 above a configurable rate, and then posts status callbacks signed with
the account's auth token exactly as Twilio signs them.

Delivery outcomes: by default every message is delivered; To +15005550030 ends
undelivered (30003) and +15005550031 failed (30008), and POST /_control can set
any number's outcome, add latency, duplicate and shuffle callbacks, or make the
next sends answer 500 or hang.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import logging
import random
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from twilio.request_validator import RequestValidator

from supportbot.outbound.segments import count_segments
from supportbot.sandbox import twilio_setup
from supportbot.sandbox.controls import apply_controls, unknown_controls

log = logging.getLogger(__name__)

MAGIC_TO = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}
MAGIC_FROM = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number or shortcode."),
    "+15005550008": (21611, "This 'From' number has exceeded the maximum number of queued messages"),
}
DEFAULT_OUTCOMES = {"+15005550030": ("undelivered", 30003), "+15005550031": ("failed", 30008)}


CONTROLS = (
    "callback_delay",
    "duplicate",
    "shuffle",
    "fail_next",
    "throttle_next",
    "hang_next",
    "max_per_second",
)


def twilio_error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(jsonify(body).get_data(), status=status, mimetype="application/json")


class Sandbox:
    def __init__(self, account_sid: str, auth_token: str, max_per_second: float | None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.callbacks_sent: list[dict[str, Any]] = []
        self.recent: deque[float] = deque()
        self.max_per_second = max_per_second
        self.outcomes: dict[str, tuple[str, int | None]] = dict(DEFAULT_OUTCOMES)
        self.callback_delay = 0.05
        self.duplicate = False
        self.shuffle = False
        self.fail_next = 0  # answer 500 to this many sends
        self.throttle_next = 0  # answer 429/20429 to this many sends
        self.refused: list[int] = []  # error codes of the sends refused by the knobs above
        self.hang_next = 0.0  # hang this long (after accepting the message) on the next send
        self._due: list[tuple[float, int, str, dict[str, str]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(self.lock)
        threading.Thread(target=self._deliver_callbacks, daemon=True).start()

    # --- status callbacks -------------------------------------------------------------

    def schedule(self, url: str, params: dict[str, str], delay: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), url, params))
            self._wake.notify()

    def _deliver_callbacks(self) -> None:
        session = requests.Session()
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    timeout = (self._due[0][0] - time.monotonic()) if self._due else None
                    self._wake.wait(timeout)
                _, _, url, params = heapq.heappop(self._due)
            signature = RequestValidator(self.auth_token).compute_signature(url, params)
            try:
                resp = session.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
                status = resp.status_code
            except requests.RequestException as exc:
                status = 0
                log.warning("sandbox: status callback to %s failed: %s", url, exc.__class__.__name__)
            with self.lock:
                self.callbacks_sent.append({**params, "_http_status": status})

    def callbacks_for(self, msg: dict[str, Any]) -> list[dict[str, str]]:
        outcome, code = self.outcomes.get(msg["to"], ("delivered", None))
        steps = ["queued", "sent", outcome] if outcome != "failed" else ["queued", "failed"]
        out = []
        for status in steps:
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": "2010-04-01",
                "MessageSid": msg["sid"],
                "SmsSid": msg["sid"],
                "MessageStatus": status,
                "SmsStatus": status,
                "From": msg["from"] or "",
                "To": msg["to"],
            }
            if msg["messaging_service_sid"]:
                params["MessagingServiceSid"] = msg["messaging_service_sid"]
            if status in ("undelivered", "failed") and code:
                params["ErrorCode"] = str(code)
            if status in ("delivered", "undelivered"):
                params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
            out.append(params)
        if self.duplicate:
            out = out + [dict(p) for p in out]
        if self.shuffle:
            random.shuffle(out)
        return out

    # --- sending ------------------------------------------------------------------------

    def over_rate(self, now: float) -> bool:
        if not self.max_per_second:
            return False
        while self.recent and self.recent[0] <= now - 1.0:
            self.recent.popleft()
        return len(self.recent) >= self.max_per_second


def _auth_ok(sandbox: Sandbox, account_sid: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return user == account_sid == sandbox.account_sid and password == sandbox.auth_token


def _refusal(form: Any) -> Response | None:
    """Twilio's answer to a send it refuses before queueing: missing fields, magic numbers."""
    to, sender = form.get("To", ""), form.get("From")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not (sender or form.get("MessagingServiceSid")):
        return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
    if not (form.get("Body") or form.getlist("MediaUrl")):
        return twilio_error(400, 21602, "Message body is required.")
    if sender in MAGIC_FROM:
        return twilio_error(400, *MAGIC_FROM[sender])
    if to in MAGIC_TO:
        return twilio_error(400, *MAGIC_TO[to])
    return None


def create_twilio_sandbox(  # noqa: C901 - small routes, one closure
    account_sid: str, auth_token: str, max_per_second: float | None = None, app_url: str = ""
) -> Flask:
    """The stand-in; app_url is where its numbers and service send webhooks (doctor checks it)."""
    app = Flask("twilio_sandbox")
    sandbox = Sandbox(account_sid, auth_token, max_per_second)
    app.extensions["twilio_sandbox"] = sandbox
    hooks = (f"{app_url}/twilio/inbound", f"{app_url}/twilio/status") if app_url else ("", "")
    twilio_setup.install(app, sandbox, _auth_ok, twilio_error, *hooks)

    def message_json(msg: dict[str, Any]) -> dict[str, Any]:
        uri = f"/2010-04-01/Accounts/{msg['account_sid']}/Messages/{msg['sid']}.json"
        created = format_datetime(msg["created"], usegmt=True)
        return {
            "account_sid": msg["account_sid"],
            "api_version": "2010-04-01",
            "body": msg["body"],
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": msg["from"],
            "messaging_service_sid": msg["messaging_service_sid"],
            "num_media": str(len(msg["media"])),
            "num_segments": str(msg["num_segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": msg["sid"],
            "status": "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": msg["to"],
            "uri": uri,
        }

    @app.post("/2010-04-01/Accounts/<account_sid>/Messages.json")
    def create_message(account_sid: str) -> Response | tuple[Response, int]:
        if not _auth_ok(sandbox, account_sid):
            return twilio_error(401, 20003, "Authenticate")
        form = request.form
        refused = _refusal(form)
        if refused is not None:
            return refused
        to, sender, service = form.get("To", ""), form.get("From"), form.get("MessagingServiceSid")
        body, media = form.get("Body", ""), form.getlist("MediaUrl")
        now = time.monotonic()
        with sandbox.lock:
            if sandbox.fail_next > 0:
                sandbox.fail_next -= 1
                sandbox.refused.append(20500)
                return twilio_error(500, 20500, "Internal Server Error")
            if sandbox.throttle_next > 0:
                sandbox.throttle_next -= 1
                sandbox.refused.append(20429)
                return twilio_error(429, 20429, "Too Many Requests")
            if sandbox.over_rate(now):
                return twilio_error(429, 20429, "Too Many Requests")
            sandbox.recent.append(now)
            msg = {
                "sid": "SM" + uuid.uuid4().hex,
                "account_sid": account_sid,
                "to": to,
                "from": sender,
                "messaging_service_sid": service,
                "body": body,
                "media": media,
                "num_segments": count_segments(body).segments,
                "status_callback": form.get("StatusCallback"),
                "created": datetime.now(UTC),
                "received_at": time.time(),
            }
            sandbox.messages.append(msg)
            hang, sandbox.hang_next = sandbox.hang_next, 0.0
        callback = form.get("StatusCallback")
        if callback:
            for i, params in enumerate(sandbox.callbacks_for(msg)):
                sandbox.schedule(callback, params, sandbox.callback_delay * (i + 1))
        if hang:
            time.sleep(hang)  # the message is accepted; the answer never arrives in time
        return jsonify(message_json(msg)), 201

    @app.get("/2010-04-01/Accounts/<account_sid>/Messages/<message_sid>/Media/<media_sid>")
    def media(account_sid: str, message_sid: str, media_sid: str) -> Response:
        """An MMS attachment of an inbound message; like Twilio, only with the account's credentials."""
        if not _auth_ok(sandbox, account_sid):
            return twilio_error(401, 20003, "Authenticate")
        return Response(f"media {message_sid}/{media_sid}".encode(), mimetype="image/jpeg")

    @app.post("/_control")
    def control() -> Response:
        data = request.get_json()
        refused = unknown_controls(data, (*CONTROLS, "outcomes"))
        if refused is not None:
            return refused
        outcomes = data.get("outcomes", {})
        if not isinstance(outcomes, dict) or not all(
            isinstance(o, list) and len(o) == 2 and isinstance(o[0], str) for o in outcomes.values()
        ):
            return Response(
                'outcomes must map numbers to ["status", code]\n', status=400, mimetype="text/plain"
            )
        with sandbox.lock:
            apply_controls(sandbox, data, CONTROLS)
            for number, outcome in outcomes.items():
                sandbox.outcomes[number] = (outcome[0], outcome[1])
        return jsonify({"ok": True})

    @app.get("/_state")
    def state() -> Response:
        with sandbox.lock:
            messages = [{k: v for k, v in m.items() if k != "created"} for m in sandbox.messages]
            return jsonify(
                {
                    "messages": messages,
                    "callbacks": list(sandbox.callbacks_sent),
                    "refused": list(sandbox.refused),
                }
            )

    return app
