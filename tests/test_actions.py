"""Keyword actions through the signed webhook: consent, HELP, STATUS, ACK, custom replies."""

from __future__ import annotations

import sqlalchemy as sa
from helpers import ROOT, count, inbound_form, post_signed, reply_of

from supportbot.extensions import db
from supportbot.models import ConsentEvent, Contact, Message, Outbox, Ticket

CUSTOMER = "+14155550123"
AGENT = "+14155550100"


def text(client, body, sender=CUSTOMER, n=[0], **extra):  # noqa: B006 - a counter for sids
    n[0] += 1
    return reply_of(
        post_signed(client, inbound_form(sid=f"SM{n[0]:032d}", sender=sender, body=body, **extra))
    )


def keywords_answering_ourselves(tmp_path):
    good = (ROOT / "keywords.yaml").read_text()
    (tmp_path / "keywords.yaml").write_text(
        good.replace("twilio_answers_keywords: true", "twilio_answers_keywords: false")
    )


def test_stop_opts_out_with_empty_twiml_when_twilio_answers(app, client):
    assert text(client, "stop") is None
    with app.app_context():
        contact = db.session.scalars(sa.select(Contact)).one()
        event = db.session.scalars(sa.select(ConsentEvent)).one()
    assert contact.opted_out
    assert (event.phone, event.event, event.source, event.keyword) == (CUSTOMER, "opt_out", "keyword", "STOP")
    assert count(app, Ticket) == 0 and count(app, Outbox) == 0


def test_stop_start_help_reply_from_the_file_when_twilio_does_not(make_app, tmp_path):
    keywords_answering_ourselves(tmp_path)
    client = make_app().test_client()
    assert text(client, "STOP") == "You are unsubscribed from Acme Support. Reply START to resubscribe."
    assert (
        text(client, "help")
        == "Acme Support: support@example.com. Msg&data rates may apply. Reply STOP to opt out."
    )
    assert text(client, "unstop") == "You are subscribed to Acme Support again. Reply STOP to opt out."


def test_opt_out_type_from_twilio_always_means_empty_twiml(make_app, tmp_path):
    keywords_answering_ourselves(tmp_path)
    app = make_app()
    client = app.test_client()
    assert text(client, "ARRET", OptOutType="STOP") is None
    with app.app_context():
        event = db.session.scalars(sa.select(ConsentEvent)).one()
        assert (event.event, event.source) == ("opt_out", "twilio")
    assert count(app, Ticket) == 0


def test_stop_start_help_never_open_or_touch_tickets(app, client):
    text(client, "my screen is broken")
    for word in ("HELP", "STOP", "START", "INFO"):
        text(client, word)
    assert count(app, Ticket) == 1
    assert count(app, Outbox) == 1
    with app.app_context():
        assert (
            db.session.scalars(sa.select(Message.ticket_id).where(Message.route != "ticket")).all()
            == [None] * 4
        )


def test_an_opted_out_sender_still_reaches_support_but_gets_no_reply(app, client):
    text(client, "STOP")
    assert text(client, "I still need help with my order") is None
    assert text(client, "HOURS") is None
    assert count(app, Ticket) == 1
    text(client, "START")
    assert text(client, "HOURS") == "We answer texts Mon-Fri 8am-6pm Pacific."


def test_custom_reply_keyword(client):
    assert text(client, "Hours?") == "We answer texts Mon-Fri 8am-6pm Pacific."


def test_status_answers_for_the_senders_own_ticket_in_every_spelling(client):
    assert text(client, "my order is late").startswith("Thanks! Ticket SB-1")
    for spelling in ("STATUS SB-1", "status sb-1", "status #SB-1", "STATUS 1", "Status: 1."):
        assert text(client, spelling) == "Ticket SB-1 is Open.", spelling


def test_status_of_someone_elses_ticket_gets_the_usage(client):
    text(client, "my order is late", sender="+14155550999")
    assert text(client, "STATUS SB-1") == "Text STATUS and your ticket number, e.g. STATUS SB-12."
    assert text(client, "STATUS") == "Text STATUS and your ticket number, e.g. STATUS SB-12."


def test_status_by_jira_key_once_known(app, client):
    text(client, "printer on fire")
    with app.app_context():
        db.session.get(Ticket, 1).jira_key = "SUP-42"
        db.session.get(Ticket, 1).status = "In Progress"
        db.session.commit()
    assert text(client, "status sup-42") == "Ticket SB-1 is In Progress."


def test_ack_from_an_agent_records_and_queues_the_acknowledgement(app, client):
    text(client, "server down")
    assert text(client, "ACK SB-1", sender=AGENT) == "Acknowledged SB-1."
    with app.app_context():
        ticket = db.session.get(Ticket, 1)
        assert ticket.acked_by == AGENT and ticket.acked_at is not None
        ack = db.session.scalars(sa.select(Outbox).where(Outbox.kind == "ack")).one()
        assert ack.payload["ticket_id"] == 1 and ack.payload["agent"] == AGENT


def test_ack_from_a_customer_gets_the_usage_and_changes_nothing(app, client):
    text(client, "server down")
    assert text(client, "ACK SB-1") == "Agents: text ACK and a ticket number, e.g. ACK SB-12."
    with app.app_context():
        assert db.session.get(Ticket, 1).acked_by is None
    assert count(app, Outbox) == 1


def test_opt_out_type_with_a_long_text_records_the_first_64_characters(app, client):
    """Found by the property test: the keyword column holds 64 characters."""
    assert text(client, "please stop " * 20, OptOutType="STOP") is None
    with app.app_context():
        event = db.session.scalars(sa.select(ConsentEvent)).one()
    assert event.event == "opt_out" and event.keyword == ("PLEASE STOP " * 6)[:64]
