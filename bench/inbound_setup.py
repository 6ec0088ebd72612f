"""What bench/inbound.py starts and fills: the servers under test, a worker, the big database."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa

from bench import load

TOKEN = "bench-auth-token"
ACCOUNT = "AC" + "1" * 32


class Server:
    """One app under gunicorn on its own port, with the PUBLIC_BASE_URL its signatures use."""

    def __init__(self, name: str, app: str, env: dict[str, str], gunicorn: dict) -> None:
        self.name, self.port = name, load.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = load.start_gunicorn(app, self.port, {**env, "PUBLIC_BASE_URL": self.base}, **gunicorn)
        load.wait_for(self.port, "/healthz")

    def stop(self) -> None:
        load.stop(self.proc)


def migrate(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603
        [str(load.BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=load.ROOT,
        env={**os.environ, "PUBLIC_BASE_URL": "http://127.0.0.1", **env},
        check=True,
        capture_output=True,
    )


def supportbot_env(url: str, redis: str, twilio_api: str | None = None, **over: str) -> dict[str, str]:
    env = load.app_env(url, redis, TOKEN, ACCOUNT)
    # the bench's replies go to one sandbox; the per-sender rate limit would make the
    # drain after an overload take hours, and it is not what is measured here
    env.update({"OUTBOUND_MPS": "5000", "OUTBOX_RELAY_AFTER_SECONDS": "5"})
    if twilio_api:
        env["TWILIO_API_BASE_URL"] = twilio_api
    env.update(over)
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [str(load.BIN / "flask"), "--app", "wsgi", "worker"],
        cwd=load.ROOT,
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def scalar(url: str, query: str, **params: object) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query), params).scalar() or 0)
    finally:
        engine.dispose()


def fill(url: str, messages: int = 1_000_000, contacts: int = 100_000) -> float:
    """Contacts, one ticket each and messages spread over them, in a few statements; seconds taken."""
    t0 = time.perf_counter()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO contacts (phone, opted_out, created_at)"
                " SELECT '+1628' || lpad(g::text, 7, '0'), false, now() FROM generate_series(1, :n) g"
            ),
            {"n": contacts},
        )
        conn.execute(
            sa.text(
                "INSERT INTO tickets (contact_id, status, closed, summary, create_state, status_at,"
                " created_at, updated_at) SELECT id, 'Open', false, 'filled', 'created', 0, now(), now()"
                " FROM contacts"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO messages (direction, sid, contact_id, ticket_id, from_number, to_number, body,"
                " media, num_segments, encoding, route, reply, raw_form, raw_body, status, part, parts,"
                " created_at, updated_at)"
                " SELECT 'in', 'SMfill' || lpad(g::text, 26, '0'), c.id, c.id, c.phone, '+15005550006',"
                " 'filled message ' || g, '[]', 1, 'GSM-7', 'ticket', NULL, '[]', 'x'::bytea, 'received',"
                " 1, 1, now() - (g || ' seconds')::interval, now()"
                " FROM generate_series(1, :n) g JOIN contacts c ON c.id = 1 + (g % :contacts)"
            ),
            {"n": messages, "contacts": contacts},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - t0


def keywords_file(path: Path, count: int) -> Path:
    """keywords.yaml plus generated exact and first-word keywords, `count` in all."""
    base = (load.ROOT / "keywords.yaml").read_text()
    head, _, tail = base.partition("default:")
    extra = []
    for i in range(max(count - 6, 0)):
        match = "exact" if i % 2 else "first_word"
        extra.append(
            f'  - keyword: KW{i:04d}\n    match: {match}\n    action: reply\n    reply: "Answer {i}."\n'
        )
    path.write_text(head + "".join(extra) + "default:" + tail)
    return path
