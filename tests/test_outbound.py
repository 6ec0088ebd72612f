"""Agent replies and delivery, end to end over real HTTP: Jira stand-in comment webhook
-> web -> worker -> Twilio sandbox -> signed status callbacks -> web -> ticket."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa
from helpers import CUSTOMER, HAVE_REDIS, post_signed, run_jobs

from standins import Worker, wait_until
from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact, Message, StatusCallback

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")


@pytest.mark.slow
def test_an_agents_public_comment_reaches_the_customer_and_shows_as_delivered(desk, tmp_path):
    """The whole path with a real worker process."""
    d = desk()
    key = d.open_ticket()
    worker = Worker(d.app.raw_config, tmp_path / "worker.log")
    try:
        d.agent_says(key, "Your parcel is on its way, tracking 1Z999.")
        wait_until(lambda: len(d.sandbox.messages()) == 1, 20, "the SMS at Twilio")
        (sms,) = d.sandbox.messages()
        assert (sms["to"], sms["body"]) == (CUSTOMER, "Your parcel is on its way, tracking 1Z999.")
        assert sms["status_callback"] == d.base + "/twilio/status"

        def delivered_on_the_comment():
            comment = next(c for c in d.jira.issues()[key]["comments"] if c["author"] == "agent-alice")
            return any(p["key"] == "supportbot.delivery" for p in comment["properties"])

        wait_until(delivered_on_the_comment, 20, "the delivery receipt on the comment")
    finally:
        worker.stop()
    (msg,) = d.messages()
    assert (msg.status, msg.sid, msg.ticket_id) == ("delivered", sms["sid"], 1)
    with d.app.app_context():
        stored = db.session.scalars(
            sa.select(StatusCallback.status).where(StatusCallback.message_sid == msg.sid)
        ).all()
    assert sorted(stored) == ["delivered", "queued", "sent"]
    assert all(c["_http_status"] == 204 for c in d.sandbox.callbacks())  # every callback's signature passed


def test_an_undelivered_reply_is_noted_on_the_ticket_once(desk):
    d = desk()
    d.sandbox.control(duplicate=True, shuffle=True)
    key = d.open_ticket(sender="+15005550030")  # the sandbox's "unreachable handset"
    d.agent_says(key, "Can you hear us?")
    note = (
        "supportbot: SMS to ***0030 undelivered: error 30003, "
        "Unreachable destination handset (off, or out of coverage)."
    )
    d.settle(lambda: note in d.comments(key), "the failure note")
    d.settle(lambda: len(d.sandbox.callbacks()) == 6, "all duplicated callbacks")
    run_jobs(d.app)
    assert d.comments(key).count(note) == 1
    assert d.messages()[0].status == "undelivered" and d.messages()[0].error_code == 30003


def test_stop_then_an_agent_reply_sends_nothing_and_says_so(desk):
    d = desk()
    key = d.open_ticket()
    d.text("STOP")
    d.agent_says(key, "Hello again")
    d.settle(lambda: any("has opted out" in c for c in d.comments(key)), "the opted-out note")
    assert d.sandbox.messages() == []
    assert d.messages()[0].status == "blocked"
    assert "supportbot: not sent: ***0123 has opted out (texted STOP)." in d.comments(key)


@pytest.mark.parametrize(
    ("number", "code", "meaning"),
    [
        ("+15005550001", 21211, "is not a valid phone number"),
        ("+15005550002", 21612, "cannot route to this number"),
        ("+15005550003", 21408, "region is not enabled"),
        ("+15005550009", 21614, "is not a mobile number"),
    ],
)
def test_final_twilio_errors_are_noted_and_not_retried(desk, number, code, meaning):
    d = desk()
    key = d.open_ticket(sender=number)
    d.agent_says(key, "Hi")
    d.settle(lambda: any(f"error {code}" in c for c in d.comments(key)), f"the {code} note")
    note = next(c for c in d.comments(key) if f"error {code}" in c)
    assert meaning in note
    assert d.messages()[0].status == "failed" and d.messages()[0].error_code == code
    assert len(d.messages()) == 1


def test_21610_marks_the_contact_opted_out_in_the_ledger(desk):
    d = desk()
    key = d.open_ticket(sender="+15005550004")
    d.agent_says(key, "Hi")
    d.settle(lambda: any("error 21610" in c for c in d.comments(key)), "the 21610 note")
    with d.app.app_context():
        assert db.session.scalar(sa.select(Contact.opted_out).where(Contact.phone == "+15005550004")) is True
        event = db.session.scalars(sa.select(ConsentEvent)).one()
        assert (event.event, event.source, event.phone) == ("opt_out", "carrier", "+15005550004")


def test_429_then_success(desk):
    d = desk(JOB_RETRY_INTERVALS="1,1,1")
    key = d.open_ticket()
    d.sandbox.control(throttle_next=2)
    d.agent_says(key, "Sorry for the wait")
    d.settle(lambda: len(d.sandbox.messages()) == 1, "the SMS after two 429s")
    d.settle(lambda: d.messages()[0].status == "delivered", "delivery")
    assert len(d.messages()) == 1
    assert d.sandbox.refused() == [20429, 20429]  # the two refusals really happened


def test_a_read_timeout_is_may_have_been_sent_and_never_resent(desk):
    d = desk(JOB_RETRY_INTERVALS="1,1,1")
    key = d.open_ticket()
    d.sandbox.control(hang_next=4)  # Twilio takes the message; the answer comes after our 2 s timeout
    d.agent_says(key, "Are you there?")
    d.settle(
        lambda: any("may have been sent" in c for c in d.comments(key)), "the may-have-been-sent note", 30
    )
    run_jobs(d.app)
    assert len(d.sandbox.messages()) == 1
    assert d.messages()[0].status == "unknown"


def test_the_bots_own_comments_are_never_echoed(desk):
    d = desk()
    key = d.open_ticket()
    d.text("a follow-up that becomes a comment by supportbot")
    d.settle(lambda: len(d.jira.state.webhooks_sent) >= 1, "Jira's webhook for the bot's comment")
    run_jobs(d.app)
    assert any(c.startswith("Text from the customer") for c in d.comments(key))
    assert d.sandbox.messages() == []


@pytest.mark.parametrize(
    ("extra", "sent"),
    [
        ({"visibility": {"type": "role", "value": "Developers"}}, False),
        ({"jsdPublic": False}, False),
        ({}, True),
    ],
)
def test_only_public_comments_are_sent(desk, extra, sent):
    d = desk()
    key = d.open_ticket()
    d.agent_says(key, "Internal or not?", **extra)
    d.settle(lambda: len(d.jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    if sent:
        d.settle(lambda: len(d.sandbox.messages()) == 1, "the SMS")
    else:
        assert d.sandbox.messages() == []


def test_on_a_service_desk_a_comment_without_jsdpublic_is_internal(desk, jira):
    d = desk()
    key = d.open_ticket()
    jira.control(service_desk=True)
    d.agent_says(key, "no jsdPublic here")
    d.agent_says(key, "shared with the customer", jsdPublic=True)
    d.settle(lambda: len(d.sandbox.messages()) == 1, "the public one")
    run_jobs(d.app)
    assert [m["body"] for m in d.sandbox.messages()] == ["shared with the customer"]


def test_a_long_atlassian_document_comment_arrives_in_numbered_parts_in_order(desk):
    d = desk()
    key = d.open_ticket()
    paragraph = " ".join(f"step{i}" for i in range(400))
    adf = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": paragraph}]}],
    }
    d.agent_says(key, adf)
    d.settle(lambda: len(d.sandbox.messages()) == 2, "two parts")
    bodies = [m["body"] for m in d.sandbox.messages()]
    assert bodies[0].startswith("(1/2) step0 ") and bodies[1].startswith("(2/2) ")
    assert " ".join(b.split(" ", 1)[1] for b in bodies) == paragraph


def test_an_agent_starts_a_conversation_with_a_known_number(desk, jira):
    d = desk()
    d.open_ticket()  # the customer is known: they texted before
    requests.post(
        jira.url + "/rest/api/2/issue",
        json={"fields": {"project": {"key": "SUP"}, "summary": "outage"}},
        timeout=5,
    )
    other = [k for k in jira.issues() if k != d.ticket().jira_key][0]
    d.agent_says(other, f"/sms {CUSTOMER} We found the cause of your outage.")
    d.agent_says(other, "/sms +14155559999 Hello stranger")
    d.settle(lambda: len(d.sandbox.messages()) == 1, "the SMS")
    assert d.sandbox.messages()[0]["body"] == "We found the cause of your outage."
    d.settle(lambda: any("is not a known number" in c for c in d.comments(other)), "the unknown-number note")
    assert d.ticket(2).jira_key == other  # the issue is now a ticket: the customer's answers thread to it


def test_status_callbacks_need_a_signature_and_are_all_kept(desk):
    d = desk()
    form = {"MessageSid": "SMunknown", "MessageStatus": "delivered"}
    assert d.client.post("/twilio/status", data=form).status_code == 403
    assert post_signed(d.client, form, path="/twilio/status", base=d.base).status_code == 204
    assert post_signed(d.client, {"MessageSid": "SMx"}, path="/twilio/status", base=d.base).status_code == 400
    with d.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusCallback)) == 1


def test_a_comment_on_an_issue_that_is_not_a_ticket_is_ignored(desk, jira):
    d = desk()
    d.open_ticket()
    requests.post(
        jira.url + "/rest/api/2/issue",
        json={"fields": {"project": {"key": "SUP"}, "summary": "x"}},
        timeout=5,
    )
    other = [k for k in jira.issues() if k != d.ticket().jira_key][0]
    d.agent_says(other, "not for any customer")
    d.settle(lambda: len(jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    assert d.sandbox.messages() == [] and d.comments(other) == ["not for any customer"]


def test_delivery_receipts_as_a_short_note(desk):
    d = desk(DELIVERY_RECEIPTS="note")
    key = d.open_ticket()
    d.agent_says(key, "Noted?")
    d.settle(
        lambda: any(c.startswith("supportbot: delivered to ***0123 at ") for c in d.comments(key)), "the note"
    )


def test_queueing_the_same_reply_twice_gives_the_same_rows(app):
    """Idempotent on the key (the Jira comment id), for one part and for several."""
    from supportbot.outbound.pipeline import queue_sms

    long_text = " ".join(f"word{i}" for i in range(500))
    with app.app_context():
        short = queue_sms(CUSTOMER, "hello", "jira-comment-1", None)
        parts = queue_sms(CUSTOMER, long_text, "jira-comment-2", None)
        db.session.commit()
        assert queue_sms(CUSTOMER, "hello", "jira-comment-1", None) == short
        assert queue_sms(CUSTOMER, long_text, "jira-comment-2", None) == parts
        assert len(short) == 1 and len(parts) == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 4
