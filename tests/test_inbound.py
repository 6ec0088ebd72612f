"""POST /twilio/inbound: storing, routing and answering one text."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa
from helpers import HAVE_PG, PUBLIC, count, inbound_form, post_signed, reply_of, sign

from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact, Message, Outbox, Ticket


def test_a_new_text_opens_a_ticket_and_writes_the_outbox(app, client):
    """Does a plain text store the message, open SB-1, quote it, and leave work in the outbox?"""
    resp = post_signed(client, inbound_form(body="My order never arrived"))
    assert reply_of(resp) == "Thanks! Ticket SB-1 is open; we'll text you here. Reply STOP to opt out."
    with app.app_context():
        msg = db.session.scalars(sa.select(Message)).one()
        assert (msg.from_number, msg.body, msg.direction, msg.route) == (
            "+14155550123",
            "My order never arrived",
            "in",
            "ticket",
        )
        ticket = db.session.get(Ticket, msg.ticket_id)
        assert ticket.ref == "SB-1" and ticket.summary == "My order never arrived"
        outbox = db.session.scalars(sa.select(Outbox)).one()
        assert outbox.kind == "create_ticket" and outbox.payload == {"ticket_id": 1, "message_id": msg.id}
        assert ["Body", "My order never arrived"] in msg.raw_form


def test_a_follow_up_joins_the_open_ticket_without_a_second_confirmation(app, client):
    post_signed(client, inbound_form(sid="SM1", body="first"))
    resp = post_signed(client, inbound_form(sid="SM2", body="second"))
    assert reply_of(resp) is None
    assert count(app, Ticket) == 1
    with app.app_context():
        kinds = db.session.scalars(sa.select(Outbox.kind).order_by(Outbox.id)).all()
    assert kinds == ["create_ticket", "comment"]


@pytest.mark.parametrize(
    ("closed_hours_ago", "reply", "tickets"),
    [
        (100, "Thanks! Ticket SB-2 is open", 2),  # past REOPEN_WINDOW_HOURS (72): a new ticket
        (2, "Thanks! Ticket SB-1 is open", 1),  # within it: the old ticket is reopened
    ],
)
def test_a_closed_ticket_is_reopened_only_within_the_window(app, client, closed_hours_ago, reply, tickets):
    from datetime import UTC, datetime, timedelta

    post_signed(client, inbound_form(sid="SM1", body="first"))
    with app.app_context():
        t = db.session.get(Ticket, 1)
        t.closed, t.closed_at = True, datetime.now(UTC) - timedelta(hours=closed_hours_ago)
        db.session.commit()
    resp = post_signed(client, inbound_form(sid="SM2", body="it broke again"))
    assert reply_of(resp).startswith(reply)
    assert count(app, Ticket) == tickets


def test_a_repeated_message_sid_changes_nothing_and_gets_the_same_reply(app, client):
    form = inbound_form(body="help me please")
    first = post_signed(client, form)
    second = post_signed(client, form)
    assert first.data == second.data
    assert count(app, Message) == 1 and count(app, Ticket) == 1 and count(app, Outbox) == 1


def test_ten_concurrent_deliveries_of_one_message_store_it_once(make_app):
    """Twilio retries: ten simultaneous copies give one of everything and ten equal answers."""
    app = make_app()
    results: list[bytes] = []
    barrier = threading.Barrier(10)

    def deliver(form):
        client = app.test_client()
        barrier.wait()
        resp = post_signed(client, form)
        results.append(resp.data if resp.status_code == 200 else str(resp.status_code).encode())

    for form in (
        inbound_form(sid="SMconcurrentticket", body="broken"),
        inbound_form(sid="SMconcstop", body="STOP", sender="+14155550199"),
    ):
        results.clear()
        threads = [threading.Thread(target=deliver, args=(form,)) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 10 and len(set(results)) == 1, results
    assert count(app, Message) == 2
    assert count(app, Ticket) == 1
    assert count(app, Outbox) == 1
    assert count(app, ConsentEvent) == 1
    assert count(app, Contact) == 2
    if HAVE_PG:
        assert results[0].startswith(b"<?xml")


def test_two_texts_of_one_new_contact_racing_make_one_ticket(make_app):
    app = make_app()
    barrier = threading.Barrier(2)

    def deliver(sid):
        client = app.test_client()
        barrier.wait()
        assert post_signed(client, inbound_form(sid=sid, sender="+14155550777", body=sid)).status_code == 200

    threads = [threading.Thread(target=deliver, args=(f"SMrace{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(app, Ticket) == 1
    assert count(app, Contact) == 1
    with app.app_context():
        kinds = sorted(db.session.scalars(sa.select(Outbox.kind)).all())
    assert kinds == ["comment", "create_ticket"]


def test_mms_with_empty_body_opens_a_ticket_with_the_media(app, client):
    form = inbound_form(
        body="",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
        MediaContentType1="application/pdf",
    )
    assert reply_of(post_signed(client, form)).startswith("Thanks! Ticket SB-1")
    with app.app_context():
        msg = db.session.scalars(sa.select(Message)).one()
        assert [m["content_type"] for m in msg.media] == ["image/jpeg", "application/pdf"]
        assert db.session.get(Ticket, 1).summary == "(media only)"


def test_short_codes_and_alphanumeric_senders_are_stored_as_they_are(app, client):
    for sid, sender in (("SMshort", "22395"), ("SMalpha", "ACMEBANK")):
        assert post_signed(client, inbound_form(sid=sid, sender=sender)).status_code == 200
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Contact.phone)).all()) == ["22395", "ACMEBANK"]


def test_national_format_sender_is_stored_as_e164(app, client):
    post_signed(client, inbound_form(sender="(415) 555-0123"))
    with app.app_context():
        assert db.session.scalar(sa.select(Message.from_number)) == "+14155550123"


def test_segments_come_from_twilio_or_are_counted(app, client):
    post_signed(client, inbound_form(sid="SMa", body="x" * 200, NumSegments="2"))
    post_signed(client, inbound_form(sid="SMb", body="é€ 😀", sender="+14155550124"))
    with app.app_context():
        rows = dict(db.session.execute(sa.select(Message.sid, Message.num_segments)).all())
        enc = db.session.scalar(sa.select(Message.encoding).where(Message.sid == "SMb"))
    assert rows == {"SMa": 2, "SMb": 1} and enc == "UCS-2"


def test_missing_fields_are_named(client):
    for missing in ("MessageSid", "From"):
        form = inbound_form()
        del form[missing]
        resp = post_signed(client, form)
        assert resp.status_code == 400
        assert resp.data.decode().strip() == f"400 Bad Request: missing form field {missing}"


def test_wrong_content_type_is_415(client):
    form = inbound_form()
    resp = client.post(
        "/twilio/inbound",
        json=form,
        headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", form)},
    )
    assert resp.status_code == 415
    assert "application/x-www-form-urlencoded" in resp.data.decode()


def test_a_body_over_64_kb_is_413_and_stores_nothing(app, client):
    resp = post_signed(client, inbound_form(body="x" * (65 * 1024)))
    assert resp.status_code == 413
    assert count(app, Message) == 0


def test_non_utf8_and_control_characters_are_stored_and_answered(app, client):
    raw = b"MessageSid=SMbytes&From=%2B14155550123&Body=caf%E9%00%07end"
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    # sign the form as the server parses it (Werkzeug keeps an invalid %E9 as received)
    env = EnvironBuilder(method="POST", data=raw, content_type="application/x-www-form-urlencoded")
    form = list(Request(env.get_environ()).form.items(multi=True))
    assert ("Body", "caf%E9\x00\x07end") in form
    resp = client.post(
        "/twilio/inbound",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", form)},
    )
    assert reply_of(resp).startswith("Thanks! Ticket SB-1")
    with app.app_context():
        msg = db.session.scalars(sa.select(Message)).one()
        assert msg.raw_body == raw  # the exact bytes, for audit
        # Postgres text cannot hold NUL: it alone becomes U+FFFD; the raw bytes keep it
        assert msg.body == "caf%E9\ufffd\x07end"


def test_logs_mask_numbers_and_never_print_bodies(app, client, caplog):
    caplog.set_level(logging.INFO)
    post_signed(client, inbound_form(body="my secret order 998877", sender="+14155550123"))
    text = caplog.text
    assert "0123" in text
    assert "+14155550123" not in text and "998877" not in text and "secret" not in text


def test_an_over_long_identifier_is_400_naming_it(client):
    resp = post_signed(client, inbound_form(sid="SM" + "9" * 70))
    assert resp.status_code == 400
    assert resp.data.decode().strip() == "400 Bad Request: form field MessageSid is longer than 64 characters"
