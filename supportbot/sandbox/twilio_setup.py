"""The Twilio sandbox's account setup: what `flask doctor` reads through the twilio client.

Accounts (fetch), IncomingPhoneNumbers (list, fetch), Messaging Services v1 (fetch)
with their PhoneNumbers and UsAppToPerson (A2P 10DLC campaigns), answering with the
shapes of Twilio's OpenAPI files. POST /_control/setup changes any of it, so a test
can misconfigure one thing at a time:

    {"account_status": "suspended"}
    {"number": {"phone_number": "+1...", "sms_url": "...", "sms_method": "GET"}}
    {"remove_number": "+1..."}
    {"service": {"sid": "MG...", "inbound_request_url": "...", "senders": ["+1..."],
                 "campaigns": [{"campaign_status": "PENDING"}]}}
    {"remove_service": "MG..."}
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

from supportbot.sandbox import twilio_shapes as shapes
from supportbot.sandbox.controls import unknown_controls

DEV_SERVICE_SID = "MG" + "0" * 32
DEV_NUMBER = "+15005550006"
NUMBER_FIELDS = ("sms_url", "sms_method", "status_callback", "capabilities", "sms_application_sid")
SERVICE_FIELDS = (
    "inbound_request_url",
    "inbound_method",
    "use_inbound_webhook_on_number",
    "status_callback",
    "senders",
    "campaigns",
    "us_app_to_person_registered",
)
CONTROLS = ("account_status", "number", "remove_number", "service", "remove_service")


def verified_campaign() -> dict[str, Any]:
    return {
        "campaign_status": "VERIFIED",
        "opt_out_keywords": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"],
        "opt_in_keywords": ["START", "UNSTOP"],
        "help_keywords": ["HELP", "INFO"],
    }


class Setup:
    """One account: its status, its numbers and its Messaging Services (all in memory)."""

    def __init__(self, inbound_url: str, status_url: str):
        self.lock = threading.Lock()
        self.account_status = "active"
        self.numbers: dict[str, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}
        # a correct setup for development: the dev number and one service pointing at the app
        self.upsert_number({"phone_number": DEV_NUMBER, "sms_url": inbound_url})
        self.upsert_service(
            {
                "sid": DEV_SERVICE_SID,
                "inbound_request_url": inbound_url,
                "status_callback": status_url,
                "senders": [DEV_NUMBER],
                "campaigns": [verified_campaign()],
            }
        )

    def upsert_number(self, data: dict[str, Any]) -> None:
        phone = data["phone_number"]
        number = self.numbers.setdefault(
            phone,
            {
                "sms_url": "",
                "sms_method": "POST",
                "status_callback": "",
                "sms_application_sid": None,
                "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            },
        )
        number.update({k: v for k, v in data.items() if k in NUMBER_FIELDS})

    def upsert_service(self, data: dict[str, Any]) -> None:
        service = self.services.setdefault(
            data["sid"],
            {
                "inbound_request_url": "",
                "inbound_method": "POST",
                "use_inbound_webhook_on_number": False,
                "status_callback": "",
                "senders": [],
                "campaigns": [],
                "us_app_to_person_registered": None,
            },
        )
        service.update({k: v for k, v in data.items() if k in SERVICE_FIELDS})


def _bad_fields(data: dict[str, Any], key: str, known: tuple[str, ...]) -> Response | None:
    inner = data.get(key)
    if inner is None:
        return None
    if not isinstance(inner, dict) or key_field(key) not in inner:
        return Response(f"{key} needs {key_field(key)}\n", status=400, mimetype="text/plain")
    return unknown_controls({k: v for k, v in inner.items() if k != key_field(key)}, known)


def key_field(key: str) -> str:
    return "phone_number" if key == "number" else "sid"


def install(  # noqa: C901 - small routes, one closure
    app: Flask,
    sandbox: Any,
    auth_ok: Callable[[Any, str], bool],
    twilio_error: Callable[[int, int, str], Response],
    inbound_url: str = "",
    status_url: str = "",
) -> None:
    """Add the setup endpoints to the sandbox app, with its credentials check and error shape."""
    setup = Setup(inbound_url, status_url)
    app.extensions["twilio_setup"] = setup
    acct = sandbox.account_sid

    def authorised(account_sid: str | None = None) -> bool:
        return auth_ok(sandbox, account_sid or acct)

    def not_found(what: str) -> Response:
        return twilio_error(404, 20404, f"The requested resource {what} was not found")

    @app.get("/2010-04-01/Accounts/<account_sid>.json")
    def fetch_account(account_sid: str) -> Response:
        if not authorised(account_sid):
            return twilio_error(401, 20003, "Authenticate")
        return jsonify(shapes.account_json(acct, sandbox.auth_token, setup.account_status))

    @app.get("/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers.json")
    def list_numbers(account_sid: str) -> Response:
        if not authorised(account_sid):
            return twilio_error(401, 20003, "Authenticate")
        wanted = request.args.get("PhoneNumber")
        with setup.lock:
            found = [shapes.number_json(acct, p, n) for p, n in setup.numbers.items() if wanted in (None, p)]
        uri = f"/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers.json?PageSize=50&Page=0"
        return jsonify(
            {
                "end": max(len(found) - 1, 0),
                "first_page_uri": uri,
                "incoming_phone_numbers": found,
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    @app.get("/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers/<sid>.json")
    def fetch_number(account_sid: str, sid: str) -> Response:
        if not authorised(account_sid):
            return twilio_error(401, 20003, "Authenticate")
        with setup.lock:
            for phone, n in setup.numbers.items():
                if shapes.sid_for("PN", phone) == sid:
                    return jsonify(shapes.number_json(acct, phone, n))
        return not_found(sid)

    def service_or_error(sid: str) -> tuple[dict[str, Any] | None, Response | None]:
        if not authorised():
            return None, twilio_error(401, 20003, "Authenticate")
        service = setup.services.get(sid)
        if service is None:
            return None, not_found(f"/Services/{sid}")
        return service, None

    @app.get("/v1/Services/<sid>")
    def fetch_service(sid: str) -> Response:
        with setup.lock:
            service, error = service_or_error(sid)
            if service is None or error is not None:
                return error or not_found(f"/Services/{sid}")
            return jsonify(shapes.service_json(acct, sid, service))

    @app.get("/v1/Services/<sid>/PhoneNumbers")
    def service_numbers(sid: str) -> Response:
        with setup.lock:
            service, error = service_or_error(sid)
            if service is None or error is not None:
                return error or not_found(f"/Services/{sid}")
            rows = [shapes.sender_json(acct, sid, phone) for phone in service["senders"]]
        return jsonify(
            {"meta": shapes.page_meta(sid, "PhoneNumbers", "phone_numbers"), "phone_numbers": rows}
        )

    @app.get("/v1/Services/<sid>/Compliance/Usa2p")
    def campaigns(sid: str) -> Response:
        with setup.lock:
            service, error = service_or_error(sid)
            if service is None or error is not None:
                return error or not_found(f"/Services/{sid}")
            rows = [shapes.campaign_json(acct, sid, i, c) for i, c in enumerate(service["campaigns"])]
        return jsonify({"compliance": rows, "meta": shapes.page_meta(sid, "Compliance/Usa2p", "compliance")})

    @app.post("/_control/setup")
    def control_setup() -> Response:
        data = request.get_json()
        refused = (
            unknown_controls(data, CONTROLS)
            or _bad_fields(data, "number", NUMBER_FIELDS)
            or _bad_fields(data, "service", SERVICE_FIELDS)
        )
        if refused is not None:
            return refused
        with setup.lock:
            if "account_status" in data:
                setup.account_status = data["account_status"]
            if "number" in data:
                setup.upsert_number(data["number"])
            if "service" in data:
                setup.upsert_service(data["service"])
            setup.numbers.pop(data.get("remove_number", ""), None)
            setup.services.pop(data.get("remove_service", ""), None)
        return jsonify({"ok": True})
