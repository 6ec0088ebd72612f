"""Admin console benchmark: the conversation (thread) page with a million stored messages.

Fills a fresh Postgres database with 1,000,000 messages over 10,000 contacts (half
inbound, half outbound with delivery status) plus one contact holding 50,000 more,
then signs in to gunicorn (2 workers x 4 threads, production settings) and reads
thread pages one after another, measuring each request's latency:

- first pages of random contacts' threads;
- deep pages (keyset `?before=`) of the 50,000-message contact.

    python -m bench.admin [--requests 400] [--redis redis://127.0.0.1:6379/2]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import time

import requests
import sqlalchemy as sa

from bench import load

DB = "supportbot_bench_admin"
TOKEN = "bench-auth-token"
CONTACTS = 10_000
MESSAGES = 1_000_000
BIG = 50_000
PASSWORD = "bench admin password"

FILL = [
    f"""INSERT INTO contacts (phone, opted_out, created_at)
        SELECT '+1415' || lpad(g::text, 7, '0'), false, now() FROM generate_series(1, {CONTACTS}) g""",
    # alternate inbound (by contact) and outbound (by number), in time order
    f"""INSERT INTO messages (direction, contact_id, from_number, to_number, body, media, num_segments,
            encoding, status, error_code, part, parts, created_at, updated_at)
        SELECT CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END,
               CASE WHEN g % 2 = 0 THEN c ELSE NULL END,
               CASE WHEN g % 2 = 0 THEN p ELSE '+15005550006' END,
               CASE WHEN g % 2 = 0 THEN '+15005550006' ELSE p END,
               'message number ' || g || ', about an order that has not arrived yet', '[]', 1, 'GSM-7',
               CASE WHEN g % 2 = 0 THEN 'received' WHEN g % 97 = 1 THEN 'undelivered' ELSE 'delivered' END,
               CASE WHEN g % 97 = 1 THEN 30003 ELSE NULL END, 1, 1,
               now() - make_interval(secs => {MESSAGES} - g), now()
        FROM (SELECT g, 1 + (g % {CONTACTS}) AS c, '+1415' || lpad((1 + (g % {CONTACTS}))::text, 7, '0') AS p
              FROM generate_series(1, {MESSAGES}) g) s""",
    f"""INSERT INTO messages (direction, contact_id, from_number, to_number, body, media, num_segments,
            encoding, status, part, parts, created_at, updated_at)
        SELECT CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, CASE WHEN g % 2 = 0 THEN 1 ELSE NULL END,
               CASE WHEN g % 2 = 0 THEN '+14150000001' ELSE '+15005550006' END,
               CASE WHEN g % 2 = 0 THEN '+15005550006' ELSE '+14150000001' END,
               'a long conversation, message ' || g, '[]', 1, 'GSM-7',
               CASE WHEN g % 2 = 0 THEN 'received' ELSE 'delivered' END, 1, 1, now(), now()
        FROM generate_series(1, {BIG}) g""",
    "ANALYZE",
]


def sign_in(base: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(
        base + "/admin/login",
        data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.text[:300]
    return s


def timed(session: requests.Session, url: str) -> float:
    start = time.perf_counter()
    resp = session.get(url, timeout=10)
    took = (time.perf_counter() - start) * 1000
    assert resp.status_code == 200 and "Thread" in resp.text, (resp.status_code, url)
    return took


def report(name: str, ms: list[float]) -> None:
    print(
        f"{name:<34} {len(ms):>6} {load.percentile(ms, 50):>8.1f} {load.percentile(ms, 95):>8.1f}"
        f" {load.percentile(ms, 99):>8.1f} {max(ms):>8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/2")
    opts = parser.parse_args()

    url = load.fresh_database(DB)
    env = {**load.app_env(url, opts.redis, TOKEN), "ADMIN_COOKIE_SECURE": "false"}
    full_env = {**os.environ, **env}
    flask = [str(load.BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=load.ROOT, env=full_env, check=True, capture_output=True)  # noqa: S603
    started = time.monotonic()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in FILL:
            conn.execute(sa.text(statement))
        total = conn.scalar(sa.text("SELECT count(*) FROM messages"))
    engine.dispose()
    print(f"stored {total:,} messages over {CONTACTS:,} contacts in {time.monotonic() - started:.0f}s")
    subprocess.run(  # noqa: S603
        [*flask, "admin", "create-user", "bench@example.com", "--role", "viewer", "--password-stdin"],
        cwd=load.ROOT,
        env=full_env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    port = load.free_port()
    base = f"http://127.0.0.1:{port}"
    web = load.start_gunicorn("wsgi:app", port, {**env, "PUBLIC_BASE_URL": base})
    try:
        load.wait_for(port)
        session = sign_in(base)
        rng = random.Random(9)
        for _ in range(20):  # warm both workers' connections and templates
            timed(session, f"{base}/admin/conversations/{rng.randint(2, CONTACTS)}")
        first = [
            timed(session, f"{base}/admin/conversations/{rng.randint(2, CONTACTS)}")
            for _ in range(opts.requests)
        ]
        deep = [
            timed(session, f"{base}/admin/conversations/1?before={MESSAGES + rng.randint(100, BIG)}")
            for _ in range(opts.requests)
        ]
        cols = ("reqs", "p50 ms", "p95 ms", "p99 ms", "max ms")
        print(f"{'thread page (50 messages)':<34} {cols[0]:>6} " + " ".join(f"{c:>8}" for c in cols[1:]))
        report("first page, random contact", first)
        report("deep page, 50,000-message contact", deep)
        worst = max(load.percentile(first, 95), load.percentile(deep, 95))
        print(f"p95 {'under' if worst < 100 else 'OVER'} 100 ms: {worst:.1f} ms")
    finally:
        load.stop(web)


if __name__ == "__main__":
    main()
