"""Defects found by a hostile review of the running app, each pinned by a test."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from admin_helpers import PASSWORD, csrf_token, make_user, post_form, sign_in, signed_in
from helpers import ROOT, inbound_form, post_signed, sign_jira

from supportbot.extensions import db
from supportbot.keywords.schema import KeywordConfigError, parse
from supportbot.models import KeywordVersion, Message, Note, Ticket
from supportbot.sandbox.twilio import create_twilio_sandbox

GOOD = (ROOT / "keywords.yaml").read_text()
HOURS = "We answer texts Mon-Fri 8am-6pm Pacific."
HUGE = "9" * 30


def a_ticket(app, client) -> int:
    assert post_signed(client, inbound_form(body="my order is late")).status_code == 200
    with app.app_context():
        return db.session.scalars(sa.select(Ticket.id)).one()


def test_padding_the_email_past_its_cut_does_not_reset_the_account_limit(make_app):
    # the check reads the first 255 characters, the limit used to count the whole field:
    # each padded guess got a fresh count, so the per-account limit never applied
    app = make_app(ADMIN_SIGNIN_LIMIT_ACCOUNT="3 per hour", ADMIN_SIGNIN_LIMIT_ADDRESS="1000 per hour")
    make_user(app)
    client = app.test_client()
    padded = ["admin@example.com" + " " * 238 + "x" * (i + 1) for i in range(4)]
    codes = [sign_in(client, email=e, password="wrong password!").status_code for e in padded]
    assert codes == [401, 401, 401, 429]
    assert sign_in(client, email=padded[0], password=PASSWORD).status_code == 429
    assert sign_in(app.test_client()).status_code == 429  # the account itself is refused


def test_a_nul_character_in_the_sign_in_form_is_refused_not_a_500(app):
    # Postgres text cannot hold NUL: the account lookup failed inside the query (500)
    client = app.test_client()
    token = csrf_token(client)
    resp = client.post(
        "/admin/login", data={"email": "admin@example.com\x00", "password": "x", "csrf_token": token}
    )
    assert resp.status_code == 400 and b"NUL characters are not allowed" in resp.data


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/tickets/{HUGE}",
        f"/admin/tickets?before={HUGE}",
        f"/admin/conversations/{HUGE}",
        f"/admin/conversations?before={HUGE}",
        f"/admin/audit?before={HUGE}",
        f"/admin/consent?before={HUGE}",
        f"/admin/keywords/versions?before=-{HUGE}",
        f"/admin/keywords/versions/{HUGE}/rollback",
        "/admin/consent?number=%2B1415%00",
        "/admin/consent/export.csv?number=%2B1415%00",
    ],
)
def test_ids_past_the_integer_columns_and_nul_characters_are_400_not_500(app, path):
    client = signed_in(app)
    resp = client.get(path)
    assert resp.status_code == 400, (path, resp.status_code)
    assert re.search(rb"no record has that id|NUL characters are not allowed", resp.data)


def test_a_reply_or_a_publish_with_nul_is_refused_and_stores_nothing(app):
    client = signed_in(app)
    ticket_id = a_ticket(app, client)
    page = client.get(f"/admin/tickets/{ticket_id}").data.decode()
    reply_id = re.search(r'name="reply_id" value="([0-9a-f]{32})"', page).group(1)
    resp = post_form(
        client, f"/admin/tickets/{ticket_id}/reply", {"reply": "hi\x00there", "reply_id": reply_id}
    )
    assert resp.status_code == 400
    resp = post_form(client, "/admin/keywords/publish", {"config": GOOD, "comment": "why\x00", "base": "1"})
    assert resp.status_code == 400
    resp = post_form(client, "/admin/keywords/publish", {"config": GOOD, "comment": "why", "base": HUGE})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeywordVersion)) == 1


def test_a_base_version_int_cannot_read_is_not_a_500(app):
    # "²".isdigit() is true, int("²") raises
    client = signed_in(app)
    resp = post_form(client, "/admin/keywords", {"config": GOOD, "base": "²"})
    assert resp.status_code == 200


def test_a_reply_longer_than_twilio_sends_is_refused_at_validation():
    # Twilio refuses a TwiML <Message> over 1,600 characters (21617): such a configuration
    # published fine and then left every matching text (STOP, HELP, ...) unanswered
    with pytest.raises(KeywordConfigError, match="the reply of HOURS has 1,700 characters"):
        parse(GOOD.replace(HOURS, "x" * 1700))
    long_program = re.sub(r"program: .*", 'program: "' + "P" * 1600 + '"', GOOD)
    with pytest.raises(KeywordConfigError, match="the reply of STOP has"):
        parse(long_program)
    parse(GOOD.replace(HOURS, "x" * 1600))  # exactly the limit is fine


def test_the_console_refuses_to_publish_replies_twilio_would_refuse(app):
    client = signed_in(app)
    client.get("/admin/keywords")  # seeds version 1
    draft = GOOD.replace(HOURS, "x" * 2000)
    resp = post_form(client, "/admin/keywords/publish", {"config": draft, "comment": "longer", "base": "1"})
    assert resp.status_code == 422 and b"Twilio sends at most 1,600" in resp.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(KeywordVersion)) == 1


def test_retry_redirects_only_within_the_console(app):
    client = signed_in(app)
    ticket_id = a_ticket(app, client)
    for back in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        resp = post_form(client, f"/admin/tickets/{ticket_id}/retry", {"back": back})
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith("/admin/tickets"), (back, resp.headers["Location"])
    resp = post_form(client, f"/admin/tickets/{ticket_id}/retry", {"back": f"/admin/tickets/{ticket_id}"})
    assert resp.headers["Location"] == f"/admin/tickets/{ticket_id}"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[1]", b"JSON object"),
        ("null", b"JSON object"),
        ('{"outcomes": {"+15005550040": 5}}', b"outcomes must map"),
        ('{"outcomes": []}', b"outcomes must map"),
    ],
)
def test_the_sandbox_control_refuses_malformed_json_with_400(body, reason):
    # development mounts the sandbox: these answered 500
    sandbox = create_twilio_sandbox("AC" + "0" * 32, "token")
    sandbox.config["PROPAGATE_EXCEPTIONS"] = False
    resp = sandbox.test_client().post("/_control", data=body, content_type="application/json")
    assert resp.status_code == 400 and reason in resp.data
    good = sandbox.test_client().post("/_control", json={"outcomes": {"+15005550040": ["failed", 30008]}})
    assert good.status_code == 200


@pytest.mark.parametrize("draft", ["[" * 5000, "{a: " * 5000, "- " * 20000])
def test_deeply_nested_yaml_is_refused_not_a_500(app, draft):
    # PyYAML composes recursively: a viewer's Validate of 5,000 "[" raised RecursionError (500)
    with pytest.raises(KeywordConfigError, match="nested too deeply"):
        parse(draft)
    client = signed_in(app, role="viewer")
    resp = post_form(client, "/admin/keywords", {"config": draft, "op": "validate"})
    assert resp.status_code == 422 and b"nested too deeply" in resp.data


def test_signed_webhooks_with_nul_in_an_id_answer_400_not_500(make_app):
    # Twilio or Jira (or whoever holds their secrets) reached a query with NUL: a 500 that
    # Jira retries for days; a clear 400 says what is wrong
    app = make_app(
        JIRA_URL="http://127.0.0.1:9", JIRA_WEBHOOK_SECRET="jira-webhook-secret", JIRA_AGENT_GROUPS="g"
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does
    client = app.test_client()
    resp = post_signed(
        client, {"MessageSid": "SM\x00abc", "MessageStatus": "delivered"}, path="/twilio/status"
    )
    assert resp.status_code == 400 and b"NUL" in resp.data
    for payload in (
        {"webhookEvent": "jira:issue_updated", "issue": {"key": "SUP-\x001"}},
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "SUP-1", "fields": {"status": {"name": "Do\x00ne"}}},
        },
        {"webhookEvent": "comment_created\x00", "issue": {"key": "SUP-1"}},
    ):
        raw = json.dumps(payload).encode()
        resp = client.post(
            "/jira/webhook",
            data=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature": sign_jira(raw)},
        )
        assert resp.status_code == 400 and b"holds a NUL character" in resp.data, payload


@pytest.mark.parametrize(
    ("old", "new"),
    [("program: Acme Support", 'program: "Acme\\x01 Support"'), ("Thanks! Ticket", "Thanks!\\x0b Ticket")],
)
def test_a_reply_with_a_character_xml_cannot_carry_is_refused(old, new):
    # TwiML is XML 1.0: U+0001 or U+000B in a reply made every such answer unreadable
    # to Twilio (12100), so the bot fell silent for every text that reply answers
    draft = GOOD.replace(old, new)
    assert draft != GOOD
    with pytest.raises(KeywordConfigError, match="control character U\\+00"):
        parse(draft)


@pytest.mark.parametrize("text", ["STATUS 2147483648", "STATUS SB-99999999999", "status #sb-999999999999"])
def test_a_customer_naming_a_ticket_past_the_id_range_gets_the_usage_not_a_500(app, text):
    # any customer could text this: the query failed on Postgres, /twilio/inbound answered
    # 500, and the text itself was never stored
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does
    client = app.test_client()
    resp = post_signed(client, inbound_form(sid="SM" + "7" * 32, body=text))
    assert resp.status_code == 200
    assert b"Text STATUS and your ticket number" in resp.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
