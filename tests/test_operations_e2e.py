"""/metrics and JSON logs over the whole system: gunicorn with two workers (multiprocess mode), a real
RQ worker with its own exporter, the Jira stand-in and the Twilio sandbox, all over HTTP."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from helpers import HAVE_REDIS, inbound_form, jira_settings, referenced_metrics, samples, sign, value

from standins import ROOT, Gunicorn, Worker, env_for, free_port, wait_until
from supportbot.extensions import db
from supportbot.models import Message, Ticket

pytestmark = [pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis"), pytest.mark.slow]

TOKEN = "metrics-token-for-tests"
DOCS = ROOT / "docs"


def gunicorn(config: dict, port: int, log: Path) -> Gunicorn:
    """`gunicorn --config gunicorn.conf.py wsgi:app` with two workers, as the Procfile runs it."""
    env = env_for(config)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes one
    web = Gunicorn(env, port, log, ["--config", "gunicorn.conf.py", "--workers", "2", "--threads", "2"])
    wait_until(web.answers, 30, "gunicorn to answer")
    return web


def scrape(url: str) -> dict:
    resp = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return samples(resp.text)


@pytest.fixture
def system(make_app, jira, sandbox, redis_conn, tmp_path):
    web_port, worker_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    settings = {
        **jira_settings(jira),
        "PUBLIC_BASE_URL": base,
        "TWILIO_API_BASE_URL": sandbox.url,
        "OUTBOUND_MPS": 50,
        "TWILIO_TIMEOUT": 2,
        "METRICS_TOKEN": TOKEN,
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": worker_port,
        "LOG_FORMAT": "json",
    }
    app = make_app(**settings)
    jira.control(webhook_url=base + "/jira/webhook", webhook_secret="jira-webhook-secret")
    web = gunicorn(app.raw_config, web_port, tmp_path / "gunicorn.log")
    worker = Worker(app.raw_config, tmp_path / "worker.log")
    try:
        yield app, web, f"http://127.0.0.1:{worker_port}", jira, sandbox, worker
    finally:
        worker.stop()
        web.stop()


def text(base: str, n: int, sender: str, body: str) -> None:
    form = inbound_form(sid=f"SMe2e{n:027d}", sender=sender, body=body)
    headers = {"X-Twilio-Signature": sign(base + "/twilio/inbound", form), "X-Request-Id": f"req-e2e-{n}"}
    resp = requests.post(base + "/twilio/inbound", data=form, headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text


def jira_key(app, ticket_id: int) -> str | None:
    with app.app_context():
        key = db.session.scalar(sa.select(Ticket.jira_key).where(Ticket.id == ticket_id))
        db.session.remove()
        return key


def statuses(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Message.status, Message.error_code).where(Message.direction == "out")
        )
        out = sorted((s, c) for s, c in rows)
        db.session.remove()
        return out


def test_metrics_add_up_across_gunicorn_workers_and_the_rq_worker(system):
    app, web, worker_url, jira, sandbox, worker = system
    text(web.url, 1, "+14155550123", "My parcel has not arrived")
    text(web.url, 2, "+15005550030", "Hello, anyone there?")  # the sandbox's unreachable handset
    text(web.url, 3, "+14155550124", "STOP")
    text(web.url, 4, "+14155550124", "HOURS")
    keys = [wait_until(lambda i=i: jira_key(app, i), 30, f"ticket {i} in Jira") for i in (1, 2)]
    for key in keys:
        requests.post(jira.url + "/_agent_comment", json={"key": key, "body": "We are on it."}, timeout=5)
    wait_until(
        lambda: statuses(app) == [("delivered", None), ("undelivered", 30003)], 40, "both replies settled"
    )

    # any gunicorn worker answers for all: every scrape sees all four texts
    for _ in range(6):
        found = scrape(web.url)
        assert sum(v for (n, _), v in found.items() if n == "supportbot_inbound_messages_total") == 4
    assert value(found, "supportbot_inbound_messages_total", route="STOP", action="opt_out") == 1
    assert value(found, "supportbot_outbound_messages_total", status="delivered", error_code="none") == 1
    assert value(found, "supportbot_outbound_messages_total", status="undelivered", error_code="30003") == 1
    assert value(found, "supportbot_http_responses_total", endpoint="/jira/webhook", code="204") >= 2
    assert value(found, "supportbot_http_request_duration_seconds_count", endpoint="/twilio/status") >= 4
    assert value(found, "supportbot_rq_workers") == 1
    assert value(found, "supportbot_outbox_pending") == 0

    # the worker's own exporter: jobs, Jira calls, Twilio sends
    jobs = scrape(worker_url)
    assert value(jobs, "supportbot_jobs_total", kind="create_ticket", outcome="done") == 2
    # the bot's own failure note comes back as a webhook too: its job is done, sending nothing
    assert value(jobs, "supportbot_jobs_total", kind="agent_reply", outcome="done") >= 2
    assert value(jobs, "supportbot_jira_calls_total", operation="create_issue", outcome="ok") == 2
    assert value(jobs, "supportbot_twilio_send_requests_total", outcome="accepted") == 2
    assert value(jobs, "supportbot_job_duration_seconds_count", kind="create_ticket") == 2

    # every metric the alert rules and the dashboard query is exported by the web or the worker
    exported = {name for name, _ in found} | {name for name, _ in jobs}
    assert referenced_metrics() - exported == set()

    # gunicorn workers that die keep their counts (their files stay); replacements add to them
    first = web.worker_pids()
    for victim in first:
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda v=victim: len(web.worker_pids()) == 2 and v not in web.worker_pids(), 30, "a new worker"
        )
    assert not set(first) & set(web.worker_pids())
    text(web.url, 5, "+14155550125", "HOURS")
    for _ in range(4):
        found = scrape(web.url)
        assert sum(v for (n, _), v in found.items() if n == "supportbot_inbound_messages_total") == 5


def test_json_logs_carry_the_request_id_from_the_web_into_the_job(system, tmp_path):
    app, web, _, _, _, worker = system
    text(web.url, 1, "+14155550123", "My parcel has not arrived")
    wait_until(lambda: jira_key(app, 1), 30, "the ticket in Jira")
    wait_until(lambda: "ticket SB-1 created" in worker.output(), 10, "the job's log line")
    lines = [json.loads(line) for line in worker.output().splitlines() if line.strip()]  # every line is JSON
    (created,) = [r for r in lines if r["event"].startswith("ticket SB-1 created")]
    assert created["request_id"] == "req-e2e-1" and created["job_id"] == "outbox-1"
    assert created["logger"] == "supportbot.tickets.ticket_jobs" and created["level"] == "INFO"
    web_lines = [
        json.loads(line)
        for line in (tmp_path / "gunicorn.log").read_text().splitlines()
        if line.startswith("{")
    ]
    (inbound,) = [r for r in web_lines if r["logger"] == "supportbot.inbound.service"]
    assert inbound["request_id"] == "req-e2e-1" and "***0123" in inbound["event"]
    for raw in (worker.output(), (tmp_path / "gunicorn.log").read_text()):
        assert "+14155550123" not in raw and "parcel" not in raw
