"""The JSON the sandbox answers for accounts, numbers, Messaging Services and A2P campaigns.

Every field of Twilio's OpenAPI schema for each resource is present (tests compare
them with tests/data/twilio_schemas.json); values are plausible constants except
what the sandbox's setup holds.
"""

from __future__ import annotations

import hashlib
from typing import Any

STAMP = "Thu, 30 Jul 2015 20:00:00 +0000"
ISO_STAMP = "2015-07-30T20:12:31Z"
MESSAGING = "https://messaging.twilio.com/v1"


def sid_for(prefix: str, seed: str) -> str:
    """A stable sid of the right shape: the same number always has the same PN sid."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:32]


def account_json(acct: str, auth_token: str, status: str) -> dict[str, Any]:
    uris = {
        k: f"/2010-04-01/Accounts/{acct}/{v}.json"
        for k, v in (("incoming_phone_numbers", "IncomingPhoneNumbers"), ("messages", "Messages"))
    }
    return {
        "auth_token": auth_token,
        "date_created": STAMP,
        "date_updated": STAMP,
        "friendly_name": "supportbot sandbox",
        "owner_account_sid": acct,
        "sid": acct,
        "status": status,
        "subresource_uris": uris,
        "type": "Full",
        "uri": f"/2010-04-01/Accounts/{acct}.json",
    }


def sender_json(acct: str, service_sid: str, phone: str) -> dict[str, Any]:
    """A number in a Messaging Service's sender pool (messaging.v1.service.phone_number)."""
    return {
        "sid": sid_for("PN", phone),
        "account_sid": acct,
        "service_sid": service_sid,
        "date_created": ISO_STAMP,
        "date_updated": ISO_STAMP,
        "phone_number": phone,
        "country_code": "US" if phone.startswith("+1") else "GB",
        "capabilities": ["SMS", "MMS"],
        "url": f"{MESSAGING}/Services/{service_sid}/PhoneNumbers/{sid_for('PN', phone)}",
    }


def number_json(acct: str, phone: str, n: dict[str, Any]) -> dict[str, Any]:
    sid = sid_for("PN", phone)
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


def service_json(acct: str, sid: str, s: dict[str, Any]) -> dict[str, Any]:
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


def page_meta(sid: str, path: str, key: str) -> dict[str, Any]:
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


def campaign_json(acct: str, sid: str, index: int, c: dict[str, Any]) -> dict[str, Any]:
    qe = sid_for("QE", f"{sid}-{index}")
    return {
        "sid": qe,
        "account_sid": acct,
        "brand_registration_sid": sid_for("BN", acct),
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
