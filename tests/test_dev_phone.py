"""The dev phone: signed texts to our own /twilio/inbound, and the thread as JSON."""

from __future__ import annotations

import re

import pytest
from admin_helpers import post_form, signed_in

from standins import ServedApp, free_port, wait_until

CUSTOMER = "+14155550123"


@pytest.fixture
def dev(make_app, sandbox):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(
        SUPPORTBOT_ENV="development", PUBLIC_BASE_URL=base, TWILIO_API_BASE_URL=sandbox.url, OUTBOUND_MPS=50
    )
    web = ServedApp(app, port)
    yield app
    web.close()


def phone_token(client) -> str:
    page = client.get("/sandbox/phone").data.decode()
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def send(client, text, sender=CUSTOMER, token=None):
    token = token or phone_token(client)
    return client.post(
        "/sandbox/phone/send", data={"from": sender, "message": text}, headers={"X-CSRFToken": token}
    )


def test_the_page_has_the_named_controls(dev):
    page = dev.test_client().get("/sandbox/phone").data.decode()
    assert '<label for="from">From</label>' in page and '<label for="message">Message</label>' in page
    assert ">Send</button>" in page


def test_a_text_is_signed_answered_and_shown(dev, sandbox):
    client = dev.test_client()
    resp = send(client, "hours")
    assert resp.status_code == 200 and resp.json["reply"] == "We answer texts Mon-Fri 8am-6pm Pacific."
    resp = send(client, "my order is late")
    assert resp.json["reply"].startswith("Thanks! Ticket SB-1 is open")
    thread = client.get("/sandbox/phone/thread", query_string={"from": "(415) 555-0123"}).json
    assert [i["kind"] for i in thread["items"]] == ["in", "twiml", "in", "twiml"]
    assert thread["items"][0]["body"] == "hours" and thread["opted_out"] is False


def test_an_agent_reply_and_its_delivery_show_in_the_thread(dev, sandbox):
    client = dev.test_client()
    send(client, "where is my parcel")
    admin = signed_in(dev)
    page = admin.get("/admin/tickets/1").data.decode()
    reply_id = re.search(r'name="reply_id" value="(\w+)"', page).group(1)
    post_form(
        admin,
        "/admin/tickets/1/reply",
        {"reply": "On its way.", "reply_id": reply_id},
        page="/admin/tickets/1",
    )

    def sms():
        items = client.get("/sandbox/phone/thread", query_string={"from": CUSTOMER}).json["items"]
        return [i for i in items if i["kind"] == "sms" and i["status"] == "delivered"]

    (item,) = wait_until(sms, 10, "the reply delivered")
    assert item["body"] == "On its way." and item["sid"] == sandbox.messages()[0]["sid"]


def test_bad_input_gets_a_reason_and_no_csrf_is_400(dev):
    client = dev.test_client()
    assert send(client, "hi", sender="not a number").status_code == 400
    assert send(client, "").status_code == 400
    assert send(client, "x" * 1601).json["error"] == "Message must have 1 to 1600 characters"
    resp = client.post("/sandbox/phone/send", data={"from": CUSTOMER, "message": "hi"})
    assert resp.status_code == 400


def test_there_is_no_dev_phone_in_production(app):
    client = app.test_client()
    assert client.get("/sandbox/phone").status_code == 404
    assert client.post("/sandbox/phone/send").status_code == 404
    assert client.get("/sandbox/phone/thread").status_code == 404
