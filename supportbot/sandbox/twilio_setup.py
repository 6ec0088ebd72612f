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

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request

from supportbot.sandbox import unknown_controls

DEV_SERVICE_SID = "MG" + "0" * 32
DEV_NUMBER = "+15005550006"
STAMP = "Thu, 30 Jul 2015 20:00:00 +0000"
ISO_STAMP = "2015-07-30T20:12:31Z"
MESSAGING = "https://messaging.twilio.com/v1"
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


def _sid(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:32]


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

    def number_json(phone: str, n: dict[str, Any]) -> dict[str, Any]:
        sid = _sid("PN", phone)
        return {
            "account_sid": acct,
            "address_sid": None,
            "address_requirements": "none",
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": n["capabilities"],
            "date_created": STAMP,
            "date_updated": STAMP,
            "friendly_name": phone,
            "identity_sid": None,
            "phone_number": phone,
            "origin": "twilio",
            "sid": sid,
            "sms_application_sid": n["sms_application_sid"],
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": n["sms_method"],
            "sms_url": n["sms_url"],
            "status_callback": n["status_callback"],
            "status_callback_method": "POST",
            "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers/{sid}.json",
            "voice_receive_mode": "voice",
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": None,
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "bundle_sid": None,
            "status": "in-use",
            "type": "local",
        }

    def authorised(account_sid: str | None = None) -> bool:
        return auth_ok(sandbox, account_sid or acct)

    def not_found(what: str) -> Response:
        return twilio_error(404, 20404, f"The requested resource {what} was not found")

    @app.get("/2010-04-01/Accounts/<account_sid>.json")
    def fetch_account(account_sid: str) -> Response:
        if not authorised(account_sid):
            return twilio_error(401, 20003, "Authenticate")
        uris = {
            k: f"/2010-04-01/Accounts/{acct}/{v}.json"
            for k, v in (("incoming_phone_numbers", "IncomingPhoneNumbers"), ("messages", "Messages"))
        }
        return jsonify(
            {
                "auth_token": sandbox.auth_token,
                "date_created": STAMP,
                "date_updated": STAMP,
                "friendly_name": "supportbot sandbox",
                "owner_account_sid": acct,
                "sid": acct,
                "status": setup.account_status,
                "subresource_uris": uris,
                "type": "Full",
                "uri": f"/2010-04-01/Accounts/{acct}.json",
            }
        )

    @app.get("/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers.json")
    def list_numbers(account_sid: str) -> Response:
        if not authorised(account_sid):
            return twilio_error(401, 20003, "Authenticate")
        wanted = request.args.get("PhoneNumber")
        with setup.lock:
            found = [number_json(p, n) for p, n in setup.numbers.items() if wanted in (None, p)]
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
                if _sid("PN", phone) == sid:
                    return jsonify(number_json(phone, n))
        return not_found(sid)

    def service_json(sid: str, s: dict[str, Any]) -> dict[str, Any]:
        url = f"{MESSAGING}/Services/{sid}"
        links = {
            "phone_numbers": f"{url}/PhoneNumbers",
            "short_codes": f"{url}/ShortCodes",
            "alpha_senders": f"{url}/AlphaSenders",
            "us_app_to_person": f"{url}/Compliance/Usa2p",
        }
        verified = any(c.get("campaign_status") == "VERIFIED" for c in s["campaigns"])
        registered = s["us_app_to_person_registered"]
        return {
            "sid": sid,
            "account_sid": acct,
            "friendly_name": "supportbot",
            "date_created": ISO_STAMP,
            "date_updated": ISO_STAMP,
            "inbound_request_url": s["inbound_request_url"] or None,
            "inbound_method": s["inbound_method"],
            "fallback_url": None,
            "fallback_method": "POST",
            "status_callback": s["status_callback"] or None,
            "sticky_sender": True,
            "mms_converter": True,
            "smart_encoding": True,
            "scan_message_content": "inherit",
            "fallback_to_long_code": False,
            "area_code_geomatch": True,
            "synchronous_validation": True,
            "validity_period": 14400,
            "url": url,
            "links": links,
            "usecase": "customer_care",
            "us_app_to_person_registered": verified if registered is None else registered,
            "use_inbound_webhook_on_number": s["use_inbound_webhook_on_number"],
        }

    def meta(sid: str, path: str, key: str) -> dict[str, Any]:
        url = f"{MESSAGING}/Services/{sid}/{path}?PageSize=50&Page=0"
        return {
            "page": 0,
            "page_size": 50,
            "first_page_url": url,
            "previous_page_url": None,
            "next_page_url": None,
            "key": key,
            "url": url,
        }

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
            return error or jsonify(service_json(sid, service))

    @app.get("/v1/Services/<sid>/PhoneNumbers")
    def service_numbers(sid: str) -> Response:
        with setup.lock:
            service, error = service_or_error(sid)
            if error:
                return error
            rows = [
                {
                    "sid": _sid("PN", phone),
                    "account_sid": acct,
                    "service_sid": sid,
                    "date_created": ISO_STAMP,
                    "date_updated": ISO_STAMP,
                    "phone_number": phone,
                    "country_code": "US" if phone.startswith("+1") else "GB",
                    "capabilities": ["SMS", "MMS"],
                    "url": f"{MESSAGING}/Services/{sid}/PhoneNumbers/{_sid('PN', phone)}",
                }
                for phone in service["senders"]
            ]
        return jsonify({"meta": meta(sid, "PhoneNumbers", "phone_numbers"), "phone_numbers": rows})

    @app.get("/v1/Services/<sid>/Compliance/Usa2p")
    def campaigns(sid: str) -> Response:
        with setup.lock:
            service, error = service_or_error(sid)
            if error:
                return error
            rows = [campaign_json(sid, i, c) for i, c in enumerate(service["campaigns"])]
        return jsonify({"compliance": rows, "meta": meta(sid, "Compliance/Usa2p", "compliance")})

    def campaign_json(sid: str, index: int, c: dict[str, Any]) -> dict[str, Any]:
        qe = _sid("QE", f"{sid}-{index}")
        return {
            "sid": qe,
            "account_sid": acct,
            "brand_registration_sid": _sid("BN", acct),
            "messaging_service_sid": sid,
            "description": "Customer support answers by SMS",
            "message_samples": ["Thanks! Ticket SB-1 is open; we'll text you here."],
            "us_app_to_person_usecase": "CUSTOMER_CARE",
            "has_embedded_links": False,
            "has_embedded_phone": False,
            "subscriber_opt_in": True,
            "age_gated": False,
            "direct_lending": False,
            "campaign_status": c.get("campaign_status", "VERIFIED"),
            "campaign_id": "C" + qe[2:8].upper(),
            "is_externally_registered": False,
            "rate_limits": {"att": {"mps": 75, "msg_class": "E"}, "tmobile": {"brand_tier": "LOW"}},
            "message_flow": "Customers text the support number first.",
            "opt_in_message": None,
            "opt_out_message": "You are unsubscribed. Reply START to resubscribe.",
            "help_message": "Support: reply with your question. Reply STOP to opt out.",
            "opt_in_keywords": c.get("opt_in_keywords", []),
            "opt_out_keywords": c.get("opt_out_keywords", []),
            "help_keywords": c.get("help_keywords", []),
            "date_created": ISO_STAMP,
            "date_updated": ISO_STAMP,
            "url": f"{MESSAGING}/Services/{sid}/Compliance/Usa2p/{qe}",
            "mock": False,
            "errors": c.get("errors", []),
        }

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
