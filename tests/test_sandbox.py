"""The Twilio sandbox, through the real twilio client, checked against Twilio's own spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from helpers import ACCOUNT_SID, AUTH_TOKEN, HAVE_REDIS
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

from standins import ServedApp, wait_until
from supportbot.config import load
from supportbot.outbound.ratelimit import SenderRate
from supportbot.sandbox.twilio import create_twilio_sandbox
from supportbot.twilio_client import build, rewrite

# the Messages part of Twilio's OpenAPI file; where it comes from: tests/data/README.md
SPEC = Path(__file__).resolve().parent / "data" / "twilio_api_v2010_messages.json"


@pytest.fixture
def sandbox():
    served = ServedApp(create_twilio_sandbox(ACCOUNT_SID, AUTH_TOKEN, max_per_second=5))
    yield served
    served.close()


def client_for(sandbox, token=AUTH_TOKEN):
    return build(
        load(
            {
                "TESTING": True,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": token,
                "TWILIO_API_BASE_URL": sandbox.url,
                "TWILIO_TIMEOUT": 5,
            }
        )
    )


def test_the_message_json_has_exactly_the_fields_of_twilios_spec(sandbox):
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    spec = schemas["api.v2010.account.message"]["properties"]
    resp = requests.post(
        f"{sandbox.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": "+14155550123", "From": "+15005550006", "Body": "hi"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert resp.status_code == 201
    assert set(resp.json()) == set(spec)
    assert resp.json()["status"] in schemas["message_enum_status"]["enum"]
    assert resp.json()["direction"] in schemas["message_enum_direction"]["enum"]


def test_the_real_client_sends_and_reads_the_answer(sandbox):
    msg = client_for(sandbox).messages.create(to="+14155550123", from_="+15005550006", body="€" * 81)
    assert msg.sid.startswith("SM") and msg.status == "queued" and msg.num_segments == "2"


@pytest.mark.parametrize(
    ("to", "sender", "code", "status"),
    [
        ("+15005550001", "+15005550006", 21211, 400),
        ("+15005550002", "+15005550006", 21612, 400),
        ("+15005550003", "+15005550006", 21408, 400),
        ("+15005550004", "+15005550006", 21610, 400),
        ("+15005550009", "+15005550006", 21614, 400),
        ("+14155550123", "+15005550001", 21212, 400),
        ("+14155550123", "+15005550008", 21611, 400),
    ],
)
def test_magic_numbers_answer_twilios_errors(sandbox, to, sender, code, status):
    with pytest.raises(TwilioRestException) as info:
        client_for(sandbox).messages.create(to=to, from_=sender, body="x")
    assert (info.value.code, info.value.status) == (code, status)


def test_a_wrong_token_is_401_20003(sandbox):
    with pytest.raises(TwilioRestException) as info:
        client_for(sandbox, token="wrong").messages.create(to="+14155550123", from_="+15005550006", body="x")
    assert (info.value.code, info.value.status) == (20003, 401)


def test_above_the_rate_it_answers_429_20429(sandbox):
    client = client_for(sandbox)
    codes = []
    for _ in range(7):
        try:
            client.messages.create(to="+14155550123", from_="+15005550006", body="x")
            codes.append(201)
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes == [201] * 5 + [20429] * 2


def test_status_callbacks_are_signed_as_twilio_signs_them(sandbox):
    received = []

    def receiver(environ, start_response):
        req = Request(environ)
        url = f"http://{req.host}{req.path}"
        ok = RequestValidator(AUTH_TOKEN).validate(url, req.form, req.headers.get("X-Twilio-Signature", ""))
        received.append((ok, req.form.get("MessageStatus"), req.form.get("ErrorCode")))
        return Response(status=204)(environ, start_response)

    target = ServedApp(receiver)
    try:
        client = client_for(sandbox)
        client.messages.create(
            to="+14155550123", from_="+15005550006", body="a", status_callback=target.url + "/cb"
        )
        client.messages.create(
            to="+15005550030", from_="+15005550006", body="b", status_callback=target.url + "/cb"
        )
        wait_until(lambda: len(received) == 6, 10, "six callbacks")
    finally:
        target.close()
    assert all(ok for ok, _, _ in received)
    assert sorted((s, c) for _, s, c in received) == sorted(
        [
            ("queued", None),
            ("sent", None),
            ("delivered", None),
            ("queued", None),
            ("sent", None),
            ("undelivered", "30003"),
        ]
    )


def test_twilio_hosts_are_rewritten_and_others_left_alone():
    base = "http://127.0.0.1:5001/sandbox/twilio"
    assert rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", base) == (
        "http://127.0.0.1:5001/sandbox/twilio/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert rewrite("https://example.com/x", base) == "https://example.com/x"
    assert rewrite("https://api.twilio.com/x", None) == "https://api.twilio.com/x"


@pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")
def test_the_rate_limit_is_shared_and_counts_segments(redis_conn):
    a, b = SenderRate(redis_conn, per_second=10), SenderRate(redis_conn, per_second=10)
    interval = 1 / (10 * 0.97)
    assert a.reserve("+15005550006") == 0
    assert b.reserve("+15005550006", cost=3) == pytest.approx(
        interval, abs=0.01
    )  # another worker waits its turn
    assert a.reserve("+15005550006") == pytest.approx(4 * interval, abs=0.01)  # after three segments' worth
    assert a.reserve("+15005550007") == 0  # senders are independent


def test_an_unknown_control_is_refused_by_name(sandbox, jira):
    for url in (sandbox.url, jira.url):
        resp = requests.post(url + "/_control", json={"throttle_nxt": 1}, timeout=5)
        assert resp.status_code == 400 and resp.text.strip() == "unknown control throttle_nxt"
