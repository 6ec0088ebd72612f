"""Doctor: the Twilio account as supportbot needs it, read through the twilio client.

Credentials; the number's "A message comes in" webhook; the Messaging Service's
inbound URL (or its use of the numbers' own), status callback and senders; the A2P
10DLC campaign that US long codes need; and whether Twilio or the bot answers STOP.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from supportbot import config as cfg_module
from supportbot.config import Settings
from supportbot.doctor.report import Check, fail, ok, warn
from supportbot.keywords.normalise import normalise
from supportbot.keywords.schema import KeywordConfig

CONSOLE_NUMBER = "Console > Phone Numbers > Manage > Active numbers > the number > Messaging"
CONSOLE_SERVICE = "Console > Messaging > Services > the service"


class Expected:
    """Where Twilio must send our webhooks."""

    def __init__(self, config: Settings):
        dev = config.env == cfg_module.DEVELOPMENT
        # without PUBLIC_BASE_URL in production the settings check fails; name it in the fixes
        base = config.public_base_url or (cfg_module.DEV_BASE_URL if dev else "<PUBLIC_BASE_URL>")
        self.inbound = f"{base}/twilio/inbound"
        self.status = f"{base}/twilio/status"


def is_us_long_code(number: str) -> bool:
    """A US 10-digit number other than toll-free: what A2P 10DLC registration covers."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    region = phonenumbers.region_code_for_number(parsed)
    return region == "US" and phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.TOLL_FREE


def is_short_code(number: str) -> bool:
    return number.isdigit() and 5 <= len(number) <= 6


def _refused(name: str, exc: Exception, fix: str) -> Check:
    if isinstance(exc, TwilioRestException):
        return fail(name, f"Twilio answered {exc.status} (error {exc.code}): {exc.msg}", fix)
    return fail(
        name,
        f"Twilio does not answer ({exc.__class__.__name__})",
        "check TWILIO_API_BASE_URL and the network",
    )


def check(client: Client, config: Settings, keywords: KeywordConfig) -> list[Check]:
    try:
        account = client.api.v2010.accounts(config.twilio_account_sid).fetch()
    except (TwilioRestException, requests.RequestException) as exc:
        return [
            _refused(
                "twilio credentials",
                exc,
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the Console's Account Info "
                "(the primary auth token: it also signs webhooks)",
            )
        ]
    if account.status != "active":
        return [
            fail("twilio credentials", f"the account is {account.status}", "reactivate it in the Console")
        ]
    out = [ok("twilio credentials", "the account is active")]
    expected = Expected(config)
    senders: list[str] = []
    if config.twilio_messaging_service_sid:
        service_checks, senders = _service(client, config.twilio_messaging_service_sid, expected, keywords)
        out += service_checks
    elif config.twilio_from_number:
        senders = [config.twilio_from_number]
        out += _number(client, config.twilio_from_number, expected)
        if is_us_long_code(senders[0]):
            out.append(
                warn(
                    "a2p 10dlc",
                    f"{senders[0]} is a US long code sending without a Messaging Service: "
                    "no A2P campaign can cover it, and US carriers filter unregistered traffic (30034)",
                    "register a campaign on a Messaging Service, add the number to it, "
                    "and set TWILIO_MESSAGING_SERVICE_SID",
                )
            )
    if senders:
        out.append(_opt_out_answers(senders, keywords))
    return out


def _number(client: Client, number: str, expected: Expected, via: str = "") -> list[Check]:
    name = f"number {number}"
    try:
        found = client.incoming_phone_numbers.list(phone_number=number, limit=5)
    except (TwilioRestException, requests.RequestException) as exc:
        return [_refused(name, exc, "check the credentials' access to IncomingPhoneNumbers")]
    if not found:
        return [
            fail(
                name,
                "is not a number of this account",
                "set TWILIO_FROM_NUMBER to one of the account's numbers, in E.164 (+14155550100)",
            )
        ]
    pn = found[0]
    if not (pn.capabilities or {}).get("sms", False):
        return [fail(name, "cannot send or receive SMS", "use an SMS-capable number")]
    if pn.sms_application_sid:
        return [
            fail(
                name,
                f"its SMS go to TwiML App {pn.sms_application_sid}, not to a URL{via}",
                f"in {CONSOLE_NUMBER}, choose Webhook and set POST {expected.inbound}",
            )
        ]
    if (pn.sms_url or "") != expected.inbound or (pn.sms_method or "").upper() != "POST":
        now = f"{pn.sms_method or '?'} {pn.sms_url or '(nothing)'}"
        return [
            fail(
                name,
                f'"A message comes in" is {now}{via}: texts never reach supportbot',
                f"in {CONSOLE_NUMBER}, set A message comes in to Webhook, POST {expected.inbound}",
            )
        ]
    return [ok(name, f'"A message comes in" is POST {expected.inbound}{via}')]


def _service(
    client: Client, sid: str, expected: Expected, keywords: KeywordConfig
) -> tuple[list[Check], list[str]]:
    name = f"messaging service {sid}"
    ctx = client.messaging.v1.services(sid)
    try:
        service = ctx.fetch()
        senders = [n.phone_number for n in ctx.phone_numbers.list(limit=100)]
    except (TwilioRestException, requests.RequestException) as exc:
        return [
            _refused(
                name,
                exc,
                f"set TWILIO_MESSAGING_SERVICE_SID to a service of this account ({CONSOLE_SERVICE})",
            )
        ], []
    out: list[Check] = []
    if not senders:
        out.append(
            fail(
                name,
                "has no phone number in its sender pool",
                f"add your number in {CONSOLE_SERVICE} > Sender Pool",
            )
        )
    if service.use_inbound_webhook_on_number:
        for number in senders:
            out += _number(client, number, expected, via=" (the service defers to its numbers' own webhooks)")
    elif (service.inbound_request_url or "") != expected.inbound or (
        service.inbound_method or ""
    ).upper() != "POST":
        now = f"{service.inbound_method or '?'} {service.inbound_request_url or '(nothing)'}"
        out.append(
            fail(
                name,
                f"its inbound request URL is {now}, and it overrides the numbers' own: "
                "texts never reach supportbot",
                f"in {CONSOLE_SERVICE} > Integration, choose Send a webhook, POST {expected.inbound}",
            )
        )
    else:
        out.append(ok(name, f"inbound request URL is POST {expected.inbound}"))
    callback = service.status_callback or ""
    if callback and callback != expected.status:
        out.append(
            warn(
                f"{name} status callback",
                f"is {callback}; supportbot's replies name {expected.status} themselves, "
                "but messages sent without one report elsewhere",
                f"in {CONSOLE_SERVICE} > Integration, set the status callback to "
                f"{expected.status} or clear it",
            )
        )
    else:
        out.append(
            ok(f"{name} status callback", callback or "unset: every reply names its own StatusCallback")
        )
    us_long = [n for n in senders if is_us_long_code(n)]
    if us_long:
        out += _campaign(ctx, name, us_long, keywords)
    return out, senders


def _campaign(ctx: Any, name: str, us_long: list[str], keywords: KeywordConfig) -> list[Check]:
    check_name = "a2p 10dlc"
    try:
        campaigns = ctx.us_app_to_person.list(limit=20)
    except (TwilioRestException, requests.RequestException) as exc:
        return [_refused(check_name, exc, "check the credentials' access to Messaging Services")]
    why = f"{len(us_long)} US long code(s) in {name}; US carriers filter unregistered traffic (error 30034)"
    if not campaigns:
        return [
            fail(
                check_name,
                f"no A2P 10DLC campaign: {why}",
                "register a brand and a campaign for this service in "
                "Console > Messaging > Regulatory Compliance",
            )
        ]
    verified = [c for c in campaigns if (c.campaign_status or "").upper() == "VERIFIED"]
    if not verified:
        states = ", ".join(sorted({c.campaign_status or "unknown" for c in campaigns}))
        return [
            fail(
                check_name,
                f"the campaign is {states}, not VERIFIED: {why}",
                "wait for approval, or fix what the campaign's errors name in the Console",
            )
        ]
    out = [ok(check_name, f"campaign {verified[0].campaign_id} is VERIFIED")]
    ours = {w for w, route in keywords.exact.items() if route.action == "opt_out"}
    theirs = {normalise(w) for w in (verified[0].opt_out_keywords or [])}
    missing = sorted(theirs - ours)
    if missing:
        out.append(
            warn(
                "opt-out keywords",
                f"the campaign names {', '.join(missing)} as opt-out, keywords.yaml does not: "
                "such a STOP would not reach the consent ledger unless Twilio answers it",
                "add them to the STOP aliases in keywords.yaml",
            )
        )
    return out


def _opt_out_answers(senders: list[str], keywords: KeywordConfig) -> Check:
    """Twilio answers STOP/START/HELP itself on long codes and toll-free numbers, not on short codes."""
    name = "opt-out handling"
    short = [s for s in senders if is_short_code(s)]
    if short and keywords.twilio_answers_keywords:
        return fail(
            name,
            f"sender {short[0]} is a short code, where Twilio does not answer STOP or HELP, "
            "and keywords.yaml says twilio_answers_keywords: true, so nobody answers",
            "set twilio_answers_keywords: false in keywords.yaml",
        )
    if not short and not keywords.twilio_answers_keywords:
        return warn(
            name,
            "keywords.yaml says twilio_answers_keywords: false, yet on long codes and toll-free numbers "
            "Twilio's default opt-out handling answers STOP and HELP too: customers would get two replies",
            "set twilio_answers_keywords: true, "
            "or turn Twilio's handling off (Advanced Opt-Out) on the service",
        )
    who = "Twilio answers" if keywords.twilio_answers_keywords else "supportbot answers"
    return ok(name, f"{who} STOP, START and HELP; the bot records every consent change")
