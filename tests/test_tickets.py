"""Tickets in Jira through RQ: the real jira client against the stand-in, real Redis and RQ."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa
from helpers import (
    ACCOUNT_SID,
    HAVE_REDIS,
    inbound_form,
    jira_settings,
    post_signed,
    reply_of,
    run_jobs,
    sign_jira,
)
from rq.job import Job

from standins import Worker, wait_until
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Note, Outbox, Ticket

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")

CUSTOMER = "+14155550123"
AGENT = "+14155550100"


def text(client, sid, body, sender=CUSTOMER):
    return reply_of(post_signed(client, inbound_form(sid=sid, sender=sender, body=body)))


def ticket(app, ticket_id=1) -> Ticket:
    with app.app_context():
        t = db.session.get(Ticket, ticket_id)
        db.session.expunge(t)
        return t


def test_a_text_becomes_one_jira_issue(make_app, jira, redis_conn):
    app = make_app(**jira_settings(jira))
    client = app.test_client()
    assert text(client, "SM1", "My router blinks red since the storm").startswith("Thanks! Ticket SB-1")
    run_jobs(app)
    (issue,) = jira.issues().values()
    assert issue["summary"] == "SMS ***0123: My router blinks red since the storm"
    assert "My router blinks red since the storm" in issue["description"] and CUSTOMER in issue["description"]
    assert issue["labels"] == ["supportbot", "supportbot-ticket-1"]
    t = ticket(app)
    assert (t.jira_key, t.create_state) == (issue["key"], "created")
    # the first attempt creates without a search: no round trip wasted
    assert [c for c in jira.state.calls if "search" in c[1]] == []


def test_mms_media_is_fetched_with_twilio_credentials_and_attached(make_app, jira, sandbox, redis_conn):
    app = make_app(**jira_settings(jira, JIRA_ATTACH_MEDIA=True), TWILIO_API_BASE_URL=sandbox.url)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    form = inbound_form(body="", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert post_signed(app.test_client(), form).status_code == 200
    run_jobs(app)
    (issue,) = jira.issues().values()
    assert issue["attachments"] == ["media-1.jpg"]
    assert url in issue["description"]


def test_follow_ups_become_comments_once_each(make_app, jira, redis_conn):
    app = make_app(**jira_settings(jira))
    client = app.test_client()
    text(client, "SM1", "first")
    text(client, "SM2", "second, with more detail")
    run_jobs(app)
    with app.app_context():
        comment_row = db.session.scalars(sa.select(Outbox).where(Outbox.kind == "comment")).one()
        comment_row.state = "pending"  # as if the job ran again
        db.session.commit()
        queues.redis().delete(f"rq:job:outbox-{comment_row.id}")
        queues.enqueue_outbox(comment_row.id, "comment")
    run_jobs(app)
    (issue,) = jira.issues().values()
    assert [c["body"] for c in issue["comments"]] == [
        "Text from the customer (SM2):\n\nsecond, with more detail"
    ]


def with_issue(make_app, jira, body: str):
    """An app whose customer has texted once and whose Jira issue exists: (app, client, key)."""
    app = make_app(**jira_settings(jira))
    client = app.test_client()
    text(client, "SM1", body)
    run_jobs(app)
    return app, client, ticket(app).jira_key


def test_a_text_about_a_resolved_ticket_reopens_it(make_app, jira, redis_conn):
    app, client, key = with_issue(make_app, jira, "broken")
    jira.control(status={key: "Done"})
    deliver_issue_event(client, key, "Done", "done", 1000)
    assert ticket(app).closed
    assert text(client, "SM2", "still broken").startswith("Thanks! Ticket SB-1")
    run_jobs(app)
    assert jira.issues()[key]["status"] == "To Do"
    t = ticket(app)
    assert (t.closed, t.status) == (False, "To Do")


def test_ack_comments_and_transitions(make_app, jira, redis_conn):
    app = make_app(**jira_settings(jira, JIRA_ACK_TRANSITION="In Progress"))
    client = app.test_client()
    text(client, "SM1", "server down")
    run_jobs(app)
    assert text(client, "SM2", "ack sb-1", sender=AGENT) == "Acknowledged SB-1."
    run_jobs(app)
    (issue,) = jira.issues().values()
    assert issue["status"] == "In Progress"
    assert [c["body"] for c in issue["comments"]] == [f"Acknowledged by {AGENT} via SMS"]
    assert ticket(app).status == "In Progress"


def test_a_bad_project_fails_at_once_and_is_visible(make_app, jira, redis_conn, runner):
    app = make_app(**jira_settings(jira, JIRA_PROJECT_KEY="NOPE"))
    client = app.test_client()
    text(client, "SM1", "hello")
    run_jobs(app)
    t = ticket(app)
    assert t.create_state == "failed" and "configuration: Jira answered 400" in t.create_error
    creates = [c for c in jira.state.calls if c == ("POST", "/rest/api/2/issue")]
    assert len(creates) == 1  # no retries of what retrying cannot fix
    ready = client.get("/readyz")
    assert ready.status_code == 200 and "help desk configuration (SB-1): failing" in ready.data.decode()
    assert "Jira answered" not in ready.data.decode()  # Jira's words are for the logs and admins
    listed = app.test_cli_runner().invoke(args=["tickets", "failed"])
    assert listed.output.startswith("SB-1\t") and "Jira answered 400" in listed.output

    # the operator fixes the setting and retries
    fixed = make_app(**jira_settings(jira))
    result = fixed.test_cli_runner().invoke(args=["tickets", "failed", "--retry"])
    assert "retrying 1 tickets" in result.output, result.output
    run_jobs(fixed)
    assert ticket(fixed).create_state == "created" and len(jira.issues()) == 1


def deliver_issue_event(client, key, status, category, timestamp, delivery=None, event="jira:issue_updated"):
    body = json.dumps(
        {
            "timestamp": timestamp,
            "webhookEvent": event,
            "issue": {
                "key": key,
                "fields": {"status": {"name": status, "statusCategory": {"key": category}}},
            },
        }
    ).encode()
    headers = {"X-Hub-Signature": sign_jira(body), "Content-Type": "application/json"}
    if delivery:
        headers["X-Atlassian-Webhook-Identifier"] = delivery
    return client.post("/jira/webhook", data=body, headers=headers)


def test_issue_events_keep_status_current_for_status_replies(make_app, jira, redis_conn):
    app, client, key = with_issue(make_app, jira, "my phone is broken")
    assert deliver_issue_event(client, key, "In Progress", "indeterminate", 2000, "d1").status_code == 204
    assert text(client, "SM2", "STATUS SB-1") == "Ticket SB-1 is In Progress."
    # an older event arriving late changes nothing; a repeated delivery neither
    deliver_issue_event(client, key, "To Do", "new", 1000, "d0")
    assert text(client, "SM3", f"status {key}") == "Ticket SB-1 is In Progress."
    deliver_issue_event(client, key, "Done", "done", 3000, "d2")
    deliver_issue_event(client, key, "To Do", "new", 4000, "d2")  # same delivery id: ignored
    assert text(client, "SM4", "status 1") == "Ticket SB-1 is Done."
    assert ticket(app).closed


def test_jira_webhooks_need_a_valid_signature_or_token(make_app, jira):
    client = make_app(**jira_settings(jira, redis=None)).test_client()
    body = b'{"webhookEvent": "jira:issue_updated"}'
    headers = {"Content-Type": "application/json"}
    assert (
        client.post(
            "/jira/webhook", data=body, headers={**headers, "X-Hub-Signature": "sha256=00"}
        ).status_code
        == 403
    )
    assert client.post("/jira/webhook", data=body, headers=headers).status_code == 403
    assert client.post("/jira/webhook?token=wrong", data=body, headers=headers).status_code == 403
    # ?token= is off unless JIRA_WEBHOOK_TOKEN is set, and the HMAC secret is never a token
    assert (
        client.post("/jira/webhook?token=jira-webhook-secret", data=body, headers=headers).status_code == 403
    )
    good = {**headers, "X-Hub-Signature": sign_jira(body)}
    assert client.post("/jira/webhook", data=body, headers=good).status_code == 204
    resp = client.post(
        "/jira/webhook", data=b"[1]", headers={**headers, "X-Hub-Signature": sign_jira(b"[1]")}
    )
    assert resp.status_code == 400


def test_without_redis_jobs_run_in_process_with_local_tickets(make_app):
    app = make_app()  # no JIRA_URL, no REDIS_URL: the development defaults
    client = app.test_client()
    text(client, "SM1", "first")
    text(client, "SM2", "second")
    t = ticket(app)
    assert t.create_state == "created" and t.jira_key is None
    with app.app_context():
        assert db.session.scalars(sa.select(Note.body)).all() == ["Text from the customer (SM2):\n\nsecond"]
        assert set(db.session.scalars(sa.select(Outbox.state)).all()) == {"done"}


# --- with real worker processes ---------------------------------------------------------


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(app, n=1) -> list[Worker]:
        new = [Worker(app.raw_config, tmp_path / f"worker{len(started) + i}.log") for i in range(n)]
        started.extend(new)
        return new

    yield start
    for w in started:  # all at once: each takes a second or two to wind down
        w.terminate()
    for w in started:
        w.stop()


def issues_made(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(Ticket.create_state == "created"))


@pytest.mark.slow
def test_jira_failing_for_a_while_loses_nothing_and_duplicates_nothing(make_app, jira, redis_conn, workers):
    app = make_app(**jira_settings(jira))
    client = app.test_client()
    jira.control(fail_status=500, fail_count=6, fail_paths="POST /rest/api/2/issue")
    workers(app, 2)
    for i in range(4):
        text(client, f"SMf{i}", f"problem {i}", sender=f"+1415555{i:04d}")
    wait_until(lambda: issues_made(app) == 4, 60, "four issues")
    labels = sorted(i["labels"][1] for i in jira.issues().values())
    assert labels == [f"supportbot-ticket-{n}" for n in range(1, 5)]


@pytest.mark.slow
def test_429_with_retry_after_is_honoured(make_app, jira, redis_conn, workers):
    app = make_app(**jira_settings(jira, JOB_RETRY_INTERVALS="1,1,1"))
    client = app.test_client()
    jira.control(fail_status=429, fail_count=1, retry_after=4, fail_paths="POST /rest/api/2/issue")
    workers(app)
    sent = time.monotonic()
    text(client, "SM1", "slow down")
    wait_until(lambda: issues_made(app) == 1, 30, "the issue")
    assert time.monotonic() - sent >= 4  # not the 1 s the retry schedule alone would give
    assert len(jira.issues()) == 1


@pytest.mark.slow
def test_a_create_that_times_out_after_jira_made_it_is_not_repeated(make_app, jira, redis_conn, workers):
    """Data Center flavour (PAT, no user): the retry searches with /rest/api/2/search."""
    app = make_app(**jira_settings(jira, JIRA_USER=None))
    client = app.test_client()
    jira.control(hang=4, hang_count=1, hang_after_work=True, fail_paths="POST /rest/api/2/issue")
    workers(app)
    text(client, "SM1", "timeout please")
    wait_until(lambda: issues_made(app) == 1, 30, "the issue")
    assert len(jira.issues()) == 1
    assert ("GET", "/rest/api/2/search") in jira.state.calls


@pytest.mark.slow
def test_a_retry_waits_for_a_lagging_search_index_instead_of_creating_twice(
    make_app, jira, redis_conn, workers
):
    """Jira Cloud's search may not show an issue made seconds ago."""
    app = make_app(**jira_settings(jira, JIRA_SEARCH_LAG_SECONDS=10))
    client = app.test_client()
    # the lag leaves the first retry (about 3 s in: the 2 s timeout, a 1 s retry interval and
    # the scheduler's poll) 5 s of margin on a busy machine
    jira.control(
        hang=3, hang_count=1, hang_after_work=True, fail_paths="POST /rest/api/2/issue", search_lag=8
    )
    workers(app)
    text(client, "SM1", "index lag")
    wait_until(lambda: issues_made(app) == 1, 40, "the issue")
    assert len(jira.issues()) == 1
    searches = [c for c in jira.state.calls if "search" in c[1]]
    assert len(searches) >= 2  # the first retry did not find it, and waited


@pytest.mark.slow
def test_two_texts_of_one_contact_racing_give_one_issue_and_one_comment(make_app, jira, redis_conn, workers):
    app = make_app(**jira_settings(jira))
    workers(app, 2)
    barrier = threading.Barrier(2)

    def deliver(sid):
        c = app.test_client()
        barrier.wait()
        post_signed(c, inbound_form(sid=sid, body=f"text {sid}"))

    threads = [threading.Thread(target=deliver, args=(s,)) for s in ("SMr1", "SMr2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    def drained():
        with app.app_context():
            states = db.session.scalars(sa.select(Outbox.state)).all()
            db.session.rollback()
            idle = all(queues.queue(n).count == 0 for n in queues.QUEUES)
        return idle and len(states) == 2 and set(states) == {"done"}

    # assert once all the work is done, so a late duplicate would be seen
    wait_until(drained, 30, "both texts' jobs to be done")
    (issue,) = jira.issues().values()
    (comment,) = issue["comments"]
    first, second = ("SMr1", "SMr2") if "text SMr1" in issue["description"] else ("SMr2", "SMr1")
    assert f"text {first}" in issue["description"]
    assert comment["body"] == f"Text from the customer ({second}):\n\ntext {second}"


@pytest.mark.slow
def test_redis_down_while_texts_arrive_loses_nothing(make_app, jira, workers, tmp_path):
    from standins import RedisServer

    private = RedisServer(6391, tmp_path)
    private.start()
    try:
        app = make_app(**jira_settings(jira, redis=private.url))
        client = app.test_client()
        private.stop()
        replies = [
            text(client, f"SMd{i}", f"during the outage {i}", sender=f"+1415666{i:04d}") for i in range(5)
        ]
        assert all(r.startswith("Thanks! Ticket SB-") for r in replies)  # answered from Postgres alone
        private.start()  # empty: Redis kept nothing
        workers(app)
        wait_until(lambda: issues_made(app) == 5, 45, "five issues")
        assert len(jira.issues()) == 5
    finally:
        private.stop()


@pytest.mark.slow
def test_a_hung_redis_delays_only_the_first_text(make_app, jira):
    """Redis accepts the connection but never answers: one text waits out the timeout,
    the next ones are answered at once and left to the relay."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections complete in the kernel; nothing ever reads them
    try:
        hung = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        app = make_app(**jira_settings(jira, redis=hung, REDIS_TIMEOUT_SECONDS=1.5))
        client = app.test_client()
        t0 = time.monotonic()
        text(client, "SMh0", "first", sender="+14155559000")
        first = time.monotonic() - t0
        t1 = time.monotonic()
        for i in range(1, 4):
            assert text(client, f"SMh{i}", f"more {i}", sender=f"+1415555{i:04d}").startswith("Thanks!")
        rest = time.monotonic() - t1
    finally:
        silent.close()
    assert first >= 1.4  # the Redis client's timeout, once
    assert rest < 1.0  # three texts that each waited it would take 4.5 s
    with app.app_context():
        assert set(db.session.scalars(sa.select(Outbox.state)).all()) == {"pending"}  # nothing lost


def blocked_clients(conn) -> int:
    """Connections to our Redis database waiting in a blocking command (a worker's dequeue)."""
    db_number = str(conn.connection_pool.connection_kwargs.get("db", 0))
    return sum(1 for c in conn.client_list() if c["db"] == db_number and "b" in c["flags"])


@pytest.mark.slow
def test_a_worker_killed_mid_create_is_retried_without_a_duplicate(make_app, jira, redis_conn, workers):
    """SIGKILL to the whole worker while Jira holds the create's answer; RQ's
    abandoned-job cleanup (heartbeat expiry + maintenance) on another worker retries it.

    The survivor starts first, so it holds RQ's scheduler lock, as one worker of
    several does in production, and is paused while the other takes the job. (When
    the killed worker held the lock, the retry also waits RQ's fixed 61 s for it to
    expire.) Short timeout, grace and maintenance make the abandonment quick."""
    settings = jira_settings(
        jira, WORKER_MAINTENANCE_SECONDS=2, JOB_TIMEOUT_SECONDS=5, JOB_ABANDON_GRACE_SECONDS=5
    )
    app = make_app(**settings)
    client = app.test_client()
    jira.control(hang=30, hang_count=1, hang_after_work=True, fail_paths="POST /rest/api/2/issue")
    (survivor,) = workers(app)
    locks = [f"rq:scheduler-lock:{name}" for name in queues.QUEUES]
    wait_until(lambda: redis_conn.exists(*locks) == len(locks), 20, "the survivor to hold the scheduler lock")
    survivor.pause()
    wait_until(lambda: blocked_clients(redis_conn) == 0, 10, "the paused survivor to stop waiting for jobs")
    (doomed,) = workers(app)
    text(client, "SM1", "kill me")
    wait_until(lambda: len(jira.issues()) == 1, 20, "Jira to make the issue")
    doomed.kill()
    survivor.resume()
    wait_until(lambda: issues_made(app) == 1, 60, "the retried create", every=0.5)
    assert len(jira.issues()) == 1
    # one retry used: the abandoned run's, found by the survivor's maintenance
    job = Job.fetch(queues.job_id(1), connection=redis_conn)
    assert job.retries_left == len(app.extensions["settings"].job_retry_intervals) - 1


@pytest.mark.slow
def test_sigterm_lets_the_current_job_finish_then_the_worker_exits(make_app, jira, redis_conn, workers):
    import signal

    app = make_app(**jira_settings(jira))
    jira.control(latency=1.0)  # every Jira call takes 1 s (the timeout is 2 s): mid-flight when we ask
    (worker,) = workers(app)
    wait_until(
        lambda: "Listening on" in worker.output() or "listening" in worker.output().lower(), 20, "worker up"
    )
    text(app.test_client(), "SM1", "finish me")
    wait_until(lambda: ("POST", "/rest/api/2/issue") in jira.state.calls, 20, "the create to start")
    import os

    os.killpg(worker.proc.pid, signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0
    assert issues_made(app) == 1 and len(jira.issues()) == 1  # finished, not abandoned
