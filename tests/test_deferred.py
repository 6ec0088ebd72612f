"""Two stages: a text stored while the process is overloaded is routed once by a worker,
and its reply reaches the customer by SMS through the outbound pipeline."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from helpers import (
    CUSTOMER,
    HAVE_REDIS,
    PUBLIC,
    REDIS_URL,
    count,
    inbound_form,
    post_signed,
    reply_of,
    run_jobs,
    sign,
)
from rq.job import Job

from standins import Worker, wait_until
from supportbot.extensions import db
from supportbot.inbound import admission, deferred
from supportbot.jobs import dispatch
from supportbot.models import ConsentEvent, Contact, Message, Outbox, Ticket


def _form(n: int, body: str = "My parcel has not arrived", sender: str = CUSTOMER) -> dict[str, str]:
    return inbound_form(sid=f"SMdefer{n:026d}", sender=sender, body=body)


@pytest.fixture
def busy(make_app, redis_conn):
    """An app whose every text is deferred (jobs wait in Redis: no worker runs them here)."""
    return make_app(INBOUND_INLINE_LIMIT=0, REDIS_URL=REDIS_URL)


def _inbound(app) -> Message:
    with app.app_context():
        msg = db.session.scalars(sa.select(Message).where(Message.direction == "in")).one()
        db.session.expunge(msg)
        return msg


def test_an_overloaded_process_stores_the_text_and_answers_empty_twiml(busy):
    app = busy
    resp = post_signed(app.test_client(), _form(1))
    assert reply_of(resp) is None
    msg = _inbound(app)
    assert (msg.status, msg.route, msg.contact_id, msg.reply) == ("deferred", None, None, None)
    assert msg.body == "My parcel has not arrived" and msg.raw_body  # stored once, whole
    assert count(app, Ticket) == 0 and count(app, Contact) == 0
    with app.app_context():
        (row,) = db.session.scalars(sa.select(Outbox)).all()
        assert (row.kind, row.payload, row.state) == ("route_inbound", {"message_id": msg.id}, "pending")


def test_a_repeated_sid_of_a_deferred_text_changes_nothing_and_stays_silent(busy, make_app):
    app = busy
    client = app.test_client()
    assert reply_of(post_signed(client, _form(1))) is None
    assert reply_of(post_signed(client, _form(1))) is None
    assert count(app, Message) == 1 and count(app, Outbox) == 1
    # routed by now, and retried by Twilio once more inline: still no TwiML answer
    with app.app_context():
        deferred.route_inbound(_inbound(app).id)
        db.session.commit()
    inline = make_app()
    assert reply_of(post_signed(inline.test_client(), _form(1))) is None
    assert count(app, Message, Message.direction == "in") == 1 and count(app, Ticket) == 1


@pytest.mark.parametrize("body,event", [("STOP", "opt_out"), ("START", "opt_in")])
def test_consent_keywords_are_answered_inline_however_busy(busy, body, event):
    app = busy
    reply_of(post_signed(app.test_client(), _form(1, body)))  # Twilio answers these itself by default
    msg = _inbound(app)
    assert (msg.status, msg.route) == ("received", event)
    assert count(app, ConsentEvent, ConsentEvent.event == event) == 1
    assert count(app, Outbox, Outbox.kind == "route_inbound") == 0


def test_help_is_answered_inline_however_busy(busy):
    app = busy
    reply_of(post_signed(app.test_client(), _form(1, "HELP")))
    assert (_inbound(app).status, _inbound(app).route) == ("received", "help")


def test_under_the_limit_a_text_is_routed_inline(make_app, redis_conn):
    app = make_app(INBOUND_INLINE_LIMIT=1, REDIS_URL=REDIS_URL)
    assert "SB-1" in reply_of(post_signed(app.test_client(), _form(1)))
    assert count(app, Outbox, Outbox.kind == "route_inbound") == 0


def test_a_proxys_request_start_defers_a_text_that_waited_too_long(make_app, redis_conn):
    app = make_app(TRUSTED_PROXIES=1, INBOUND_DEFER_AFTER_MS=200, REDIS_URL=REDIS_URL)
    client = app.test_client()
    form = _form(1)
    old = f"t={time.time() - 1.0:.3f}"
    headers = {"X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", form), "X-Request-Start": old}
    resp = client.post("/twilio/inbound", data=form, headers=headers)
    assert reply_of(resp) is None and _inbound(app).status == "deferred"
    fresh = _form(2, sender="+14155550124")
    headers = {
        "X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", fresh),
        "X-Request-Start": f"t={int(time.time() * 1000)}",  # Heroku's milliseconds
    }
    assert "SB-" in reply_of(client.post("/twilio/inbound", data=fresh, headers=headers))


def test_without_redis_nothing_is_deferred(make_app):
    """No worker to route it: the text is routed here, answered in the TwiML."""
    app = make_app(INBOUND_INLINE_LIMIT=0)
    assert "SB-1" in reply_of(post_signed(app.test_client(), _form(1)))
    assert _inbound(app).status == "received"


def test_request_start_is_ignored_without_a_trusted_proxy(make_app, redis_conn):
    app = make_app(INBOUND_DEFER_AFTER_MS=1, REDIS_URL=REDIS_URL)
    form = _form(1)
    headers = {
        "X-Twilio-Signature": sign(PUBLIC + "/twilio/inbound", form),
        "X-Request-Start": "t=1000000000",
    }
    assert "SB-1" in reply_of(app.test_client().post("/twilio/inbound", data=form, headers=headers))


@pytest.mark.parametrize(
    "header,now,expected",
    [
        ("t=1700000000.250", 1700000000.5, 250.0),  # nginx: seconds
        ("1700000000250", 1700000000.5, 250.0),  # Heroku: milliseconds
        ("t=1700000000250000", 1700000000.5, 250.0),  # Apache: microseconds
        ("t=1700000001", 1700000000.5, None),  # in the future: clocks differ
        ("t=abc", 1700000000.5, None),
        ("t=nan", 1700000000.5, None),
        ("", 1700000000.5, None),
        (None, 1700000000.5, None),
    ],
)
def test_request_start_is_read_in_every_unit_proxies_use(header, now, expected):
    got = admission.queued_ms(header, now)
    assert got == pytest.approx(expected, abs=0.01) if expected is not None else got is None


def test_the_in_flight_count_counts_nested_requests_and_forgets_finished_ones():
    flight = admission.InFlight()
    with flight.entered() as one:
        with flight.entered() as two:
            assert (one, two) == (1, 2)
    with flight.entered() as again:
        assert again == 1
    assert admission.overloaded(5, 4, None, 500) and not admission.overloaded(4, 4, 499.0, 500)
    assert admission.overloaded(1, 4, 501.0, 500)


def _listening(app) -> bool:
    """The worker's outbox listener is up: a notification before it would wait for the relay."""
    with app.app_context():
        query = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN supportbot_outbox%'"
        return bool(db.session.scalar(sa.text(query)))


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")
@pytest.mark.parametrize("wake", ["notify", "redis"])
def test_a_deferred_text_is_routed_once_by_a_worker_and_its_reply_arrives_by_sms(
    desk, tmp_path, wake, redis_conn
):
    # the relay waits a minute: the reply within 15 s came by the wake-up alone
    d = desk(INBOUND_INLINE_LIMIT=0, INBOUND_WAKE=wake, OUTBOX_RELAY_AFTER_SECONDS=60)
    worker = Worker(d.app.raw_config, tmp_path / "worker.log")
    try:
        if wake == "notify":
            wait_until(lambda: _listening(d.app), 20, "the worker listening")
        resp = post_signed(d.client, _form(1), base=d.base, headers={"X-Request-Id": f"req-{wake}"})
        assert reply_of(resp) is None
        wait_until(lambda: len(d.sandbox.messages()) == 1, 15, "the reply at Twilio")
    finally:
        worker.stop()
    # the request's id reached the job, whichever way the worker was woken
    assert Job.fetch("outbox-1", connection=redis_conn).meta["request_id"] == f"req-{wake}"
    (sms,) = d.sandbox.messages()
    assert sms["to"] == CUSTOMER and "SB-1" in sms["body"]
    msg = _inbound(d.app)
    assert (msg.route, msg.ticket_id, msg.status) == ("ticket", 1, "deferred")
    # the job runs again (a retry after a lost acknowledgement): nothing changes
    with d.app.app_context():
        (row,) = db.session.scalars(sa.select(Outbox).where(Outbox.kind == "route_inbound")).all()
        row.state = "pending"
        db.session.commit()
        dispatch.run_outbox(row.id)
        deferred.route_inbound(msg.id)
        db.session.commit()
    run_jobs(d.app)
    assert count(d.app, Ticket) == 1
    assert count(d.app, Message, Message.direction == "out") == 1
    assert count(d.app, Outbox, Outbox.kind == "create_ticket") == 1
    assert len(d.sandbox.messages()) == 1
    # Twilio retries the webhook: the same sid changes nothing and answers nothing
    assert reply_of(post_signed(d.client, _form(1), base=d.base)) is None
    assert count(d.app, Message, Message.direction == "in") == 1


@pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")
def test_a_deferred_reply_to_an_opted_out_sender_is_never_sent(desk):
    d = desk(INBOUND_INLINE_LIMIT=0, INBOUND_WAKE="redis")  # run_jobs below runs what RQ holds
    reply_of(post_signed(d.client, _form(1, "STOP"), base=d.base))  # inline, always
    assert reply_of(post_signed(d.client, _form(2, "My parcel is late"), base=d.base)) is None
    run_jobs(d.app)
    assert count(d.app, Ticket) == 1  # support still hears the customer
    assert count(d.app, Message, Message.direction == "out") == 0
    assert d.sandbox.messages() == []
