"""What several test modules share: settings, signing, posting a text, reading the answer, running jobs.

Test modules import these from here, never from one another or from conftest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import redis as redis_lib
import requests
import sqlalchemy as sa
import yaml
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from standins import ServedApp, free_port, wait_until
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Message, Ticket

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32
PUBLIC = "https://bot.example.com"
IN_CI = os.environ.get("CI", "").lower() == "true"
# the smallest environment production starts with: for tests of config.load itself
PRODUCTION_ENV = {
    "SECRET_KEY": "s",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": "t",
    "TWILIO_FROM_NUMBER": "+15005550006",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgresql://x/y",
    "PUBLIC_BASE_URL": "https://bot.example.com",
}


def _postgres_answers() -> bool:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


def _redis_answers() -> bool:
    try:
        return bool(redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001
        return False


HAVE_PG = _postgres_answers()
HAVE_REDIS = _redis_answers()
if IN_CI and not (HAVE_PG and HAVE_REDIS):
    raise RuntimeError(f"CI needs Postgres ({PG_URL}: {HAVE_PG}) and Redis ({REDIS_URL}: {HAVE_REDIS})")


def database_url(tmp_dir: Path) -> str:
    return PG_URL if HAVE_PG else f"sqlite:///{tmp_dir / 'test.db'}"


def base_config(tmp_dir: Path, **over: object) -> dict[str, object]:
    kw = tmp_dir / "keywords.yaml"
    if not kw.exists():
        shutil.copy(ROOT / "keywords.yaml", kw)
    cfg: dict[str, object] = {
        "SUPPORTBOT_ENV": "production",
        "TESTING": True,
        "DATABASE_URL": database_url(tmp_dir),
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "SECRET_KEY": "test",
        "KEYWORDS_FILE": str(kw),
        "KEYWORDS_POLL_SECONDS": 0,
    }
    cfg.update(over)
    return cfg


def reset_database(app: Flask) -> None:
    """Drop everything and migrate from empty, as a new deployment would."""
    with app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            else:
                meta = sa.MetaData()
                meta.reflect(bind=conn)
                meta.drop_all(bind=conn)
        upgrade()


def truncate_all(app: Flask) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                # the append-only tables refuse TRUNCATE; a test may clear them as the superuser
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    conn.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608


def sign(url: str, form: dict[str, str] | list[tuple[str, str]], token: str = AUTH_TOKEN) -> str:
    """The signature Twilio would send, computed by the twilio library itself."""
    return RequestValidator(token).compute_signature(url, MultiDict(form))


def inbound_form(sid: str = "SM" + "a" * 32, sender: str = "+14155550123", body: str = "hello", **extra: str):
    form = {
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    form.update(extra)
    return form


def post_signed(
    client: FlaskClient,
    form,
    path: str = "/twilio/inbound",
    token: str = AUTH_TOKEN,
    base: str = PUBLIC,
    headers: dict[str, str] | None = None,
):
    signed = {"X-Twilio-Signature": sign(base + path, form, token), **(headers or {})}
    return client.post(path, data=form, headers=signed)


def jira_settings(jira, redis: str | None = REDIS_URL, **over: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "JIRA_URL": jira.url,
        "JIRA_USER": "bot@example.com",
        "JIRA_API_TOKEN": "jira-token",
        "JIRA_WEBHOOK_SECRET": "jira-webhook-secret",
        "JIRA_AGENT_GROUPS": "support-agents",
        "JIRA_TIMEOUT": 2,
        "JIRA_SEARCH_LAG_SECONDS": 1,
        "REDIS_URL": redis,
        "OUTBOX_RELAY_AFTER_SECONDS": 1,
        "JOB_RETRY_INTERVALS": "1,1,1,2,2,3,3,5,5",
        # these tests run queued jobs here (run_jobs: RQ in this process), so the webhook
        # enqueues; test_deferred.py runs the Postgres wake-up with a worker process
        "INBOUND_WAKE": "redis",
        # and race texts on purpose to test routing; test_deferred.py tests the deferral
        "INBOUND_INLINE_LIMIT": 100,
    }
    cfg.update(over)
    return cfg


def reply_of(resp) -> str | None:
    """The text of the TwiML <Message>, or None for an empty <Response/>."""
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "text/xml"
    root = ElementTree.fromstring(resp.data)
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None


def count(app: Flask, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def run_jobs(app: Flask) -> None:
    """Everything queued, in this process (RQ's SimpleWorker), until the queues are empty."""
    with app.app_context():
        worker = SimpleWorker([queues.queue(n) for n in queues.QUEUES], connection=queues.redis())
        # with_scheduler in burst mode: due retries are enqueued first, synchronously
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


def sign_jira(body: bytes, secret: str = "jira-webhook-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


CUSTOMER = "+14155550123"


class Desk:
    """The whole system for one test: our web app served on HTTP, wired to the stand-ins."""

    def __init__(self, make_app, jira, sandbox, **over):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        settings = {
            **jira_settings(jira),
            "PUBLIC_BASE_URL": self.base,
            "TWILIO_API_BASE_URL": sandbox.url,
            "OUTBOUND_MPS": 50,
            "TWILIO_TIMEOUT": 2,
            **over,
        }
        self.app = make_app(**settings)
        # the public URL is part of the config, so the port is chosen before the app exists
        self.web = ServedApp(self.app, port)
        self.jira, self.sandbox = jira, sandbox
        jira.control(webhook_url=self.base + "/jira/webhook", webhook_secret="jira-webhook-secret")
        self.client = self.app.test_client()
        self.n = 0

    def close(self) -> None:
        self.web.close()

    def text(self, body: str, sender: str = CUSTOMER) -> None:
        self.n += 1
        form = inbound_form(sid=f"SMin{self.n:08d}", sender=sender, body=body)
        assert post_signed(self.client, form, base=self.base).status_code == 200

    def ticket(self, ticket_id: int = 1) -> Ticket:
        with self.app.app_context():
            t = db.session.get(Ticket, ticket_id)
            db.session.expunge(t)
            return t

    def open_ticket(self, sender: str = CUSTOMER) -> str:
        """A customer texts; the worker makes the Jira issue; returns its key."""
        self.text("My parcel has not arrived", sender)
        run_jobs(self.app)
        return self.ticket().jira_key

    def agent_says(self, key: str, body, **extra) -> str:
        resp = requests.post(
            self.jira.url + "/_agent_comment", json={"key": key, "body": body, **extra}, timeout=5
        )
        resp.raise_for_status()
        return resp.json()["id"]

    def settle(self, check, what: str, timeout: float = 20) -> None:
        """Run queued jobs in this process until `check` holds (callbacks arrive meanwhile)."""

        def step():
            run_jobs(self.app)
            return check()

        wait_until(step, timeout, what, every=0.1)

    def comments(self, key: str) -> list[str]:
        return [c["body"] for c in self.jira.issues()[key]["comments"]]

    def messages(self) -> list[Message]:
        with self.app.app_context():
            rows = db.session.scalars(
                sa.select(Message).where(Message.direction == "out").order_by(Message.id)
            ).all()
            for r in rows:
                db.session.expunge(r)
            return rows


def publish_unparseable_version(app) -> None:
    """What only someone writing to the database directly could do: publish a version the
    validator would refuse. The processes keep the version in force and say so."""
    import sqlalchemy as sa

    from supportbot.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE keyword_versions SET published = false"))
        conn.execute(
            sa.text(
                "INSERT INTO keyword_versions (yaml, author, comment, published, created_at) "
                "VALUES ('program: x\nnot_a_field: 1\n', 'test', 'bad', true, now())"
            )
        )


# --- metrics, alerts and the dashboard -------------------------------------------

ALERTS = ROOT / "docs" / "prometheus-alerts.yml"
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
METRIC = re.compile(r"\bsupportbot_[a-z0-9_]+")


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def referenced_metrics() -> set[str]:
    """Every metric name the alerts and the dashboard query."""
    exprs = [r["expr"] for r in alert_rules()] + dashboard_exprs()
    return {name for expr in exprs for name in METRIC.findall(expr)}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return samples(resp.get_data(as_text=True))


def value(found, name, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)
