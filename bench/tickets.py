"""Ticket creation benchmark: Jira answering in 100 ms, 1, 2 and 4 worker processes.

(a) Throughput: N texts from N contacts are accepted, the workers start while RQ
    is suspended (so their start-up is not counted), and we time from resuming
    until every ticket has its Jira issue.
(b) Delay: with 2 workers running and not saturated (4 texts per second), the
    time from the webhook's answer to the issue existing in Jira (the stand-in
    stamps each issue when it makes it), p50 and p99.

    python -m bench.tickets [--texts 120] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench import load
from standins import JiraStandin, Worker, create_jira_standin, wait_until
from supportbot import create_app
from supportbot.extensions import db
from supportbot.models import Ticket

DB = "supportbot_bench_tickets"
REDIS = "redis://127.0.0.1:6379/10"
TOKEN = "bench-auth-token"
BASE = "https://bot.example.com"


def config(url: str, jira: JiraStandin, tmp: Path) -> dict[str, object]:
    return {
        **load.app_env(url, REDIS, TOKEN),
        "PUBLIC_BASE_URL": BASE,
        "JIRA_URL": jira.url,
        "JIRA_USER": "bot@example.com",
        "JIRA_API_TOKEN": "t",
        "JIRA_WEBHOOK_SECRET": "s",
    }


def send(client, n: int, run: str) -> float:
    path, body, headers = load.signed_inbound(BASE, TOKEN, n, run)
    resp = client.post(path, data=body, headers=headers)
    assert resp.status_code == 200, resp.data
    return time.time()


def created(app) -> int:
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).where(Ticket.create_state == "created"))
        db.session.rollback()
        return n


def reset(app, jira: JiraStandin) -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    with app.app_context(), db.engine.begin() as conn:
        names = ", ".join(t.name for t in db.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with jira.state.lock:
        jira.state.issues.clear()
        jira.state.counter = 0


def throughput(app, cfg, jira, workers: int, texts: int, tmp: Path) -> float:
    """Texts accepted first; workers started while RQ is suspended; timed from resume."""
    import redis
    from rq.suspension import resume, suspend
    from rq.worker import Worker as RQWorker

    reset(app, jira)
    conn = redis.Redis.from_url(REDIS)
    suspend(conn)
    client = app.test_client()
    run = uuid.uuid4().hex[:8]
    for i in range(texts):
        send(client, i, run)
    started = [Worker(cfg, tmp / f"w{workers}-{i}.log") for i in range(workers)]
    try:
        wait_until(lambda: RQWorker.count(connection=conn) == workers, 60, "workers to register")
        resume(conn)
        t0 = time.perf_counter()
        wait_until(lambda: created(app) >= texts, 600, f"{texts} issues", every=0.05)
        elapsed = time.perf_counter() - t0
    finally:
        resume(conn)
        for w in started:
            w.stop()
    assert len(jira.issues()) == texts, "an issue was made twice or not at all"
    return texts / elapsed


def delay(app, cfg, jira, tmp: Path, rate: float = 4.0, texts: int = 80) -> tuple[float, float]:
    reset(app, jira)
    started = [Worker(cfg, tmp / f"delay-{i}.log") for i in range(2)]
    client = app.test_client()
    run = uuid.uuid4().hex[:8]
    answered: dict[str, float] = {}
    try:
        time.sleep(2)  # workers up
        t0 = time.perf_counter()
        for i in range(texts):
            wait = t0 + i / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            answered[f"supportbot-ticket-{i + 1}"] = send(client, i, run)
        wait_until(lambda: created(app) >= texts, 120, "all issues")
    finally:
        for w in started:
            w.stop()
    delays = []
    for issue in jira.issues().values():
        delays.append((issue["created_at"] - answered[issue["labels"][1]]) * 1000)
    return load.percentile(delays, 50), load.percentile(delays, 99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=120)
    parser.add_argument("--latency", type=float, default=0.1)
    opts = parser.parse_args()
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
    jira = JiraStandin(create_jira_standin())
    jira.control(latency=opts.latency)
    url = load.fresh_database(DB)
    cfg = config(url, jira, tmp)
    app = create_app({**cfg, "TESTING": True})
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the stand-in's access log
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    print(f"Jira stand-in latency {opts.latency * 1000:.0f} ms per call; {opts.texts} texts per run")
    rates = {}
    for n in (1, 2, 4):
        rates[n] = throughput(app, cfg, jira, n, opts.texts, tmp)
        print(
            f"workers={n}: {rates[n]:6.1f} issues/s  (x{rates[n] / rates[1]:.2f} of one worker)", flush=True
        )
    p50, p99 = delay(app, cfg, jira, tmp)
    print(f"webhook answer -> issue in Jira, 2 workers at 4 texts/s: p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"\n4 workers / 1 worker: {rates[4] / rates[1]:.2f} (aim >= 3.5); p99 delay aim < 1000 ms")
    jira.close()


if __name__ == "__main__":
    main()
