"""Fixtures: the real Postgres and Redis of this machine (SQLite only when neither answers)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from supportbot import create_app
from supportbot.extensions import db

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "1" * 32
PUBLIC = "https://bot.example.com"
IN_CI = os.environ.get("CI", "").lower() == "true"


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


def pytest_report_header(config: pytest.Config) -> list[str]:
    db_line = (
        f"database: Postgres at {PG_URL}"
        if HAVE_PG
        else f"database: SQLite (Postgres at {PG_URL} does not answer)"
    )
    redis_line = (
        f"redis: {REDIS_URL}" if HAVE_REDIS else f"redis: none at {REDIS_URL}: tests that need it are skipped"
    )
    return [db_line, redis_line]


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
    from flask_migrate import upgrade

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
                conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    conn.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("db")
    app = create_app(base_config(tmp))
    reset_database(app)
    with app.app_context():
        db.engine.dispose()
    return tmp


@pytest.fixture
def make_app(migrated: Path, tmp_path: Path) -> Iterator:
    """Build apps on the migrated database; every table is emptied afterwards."""
    built: list[Flask] = []

    def make(**over: object) -> Flask:
        cfg = base_config(tmp_path, **over)
        cfg["DATABASE_URL"] = database_url(migrated)
        app = create_app(cfg)
        app.raw_config = cfg  # type: ignore[attr-defined] - for processes started from tests
        built.append(app)
        return app

    yield make
    if built:
        truncate_all(built[0])
        for app in built:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def redis_conn() -> Iterator[redis_lib.Redis]:
    if not HAVE_REDIS:
        pytest.skip("needs Redis")
    conn = redis_lib.Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def sign(url: str, form: dict[str, str] | list[tuple[str, str]], token: str = AUTH_TOKEN) -> str:
    """The signature Twilio would send, computed by the twilio library itself."""
    from werkzeug.datastructures import MultiDict

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


@pytest.fixture
def jira():
    from standins import JiraStandin

    from supportbot.sandbox.jira import create_jira_standin

    served = JiraStandin(create_jira_standin())
    yield served
    served.close()


@pytest.fixture
def sandbox():
    from standins import Sandbox

    from supportbot.sandbox.twilio import create_twilio_sandbox

    served = Sandbox(create_twilio_sandbox(ACCOUNT_SID, AUTH_TOKEN))
    yield served
    served.close()


def jira_settings(jira, redis: str | None = REDIS_URL, **over: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "JIRA_URL": jira.url,
        "JIRA_USER": "bot@example.com",
        "JIRA_API_TOKEN": "jira-token",
        "JIRA_WEBHOOK_SECRET": "jira-webhook-secret",
        "JIRA_TIMEOUT": 2,
        "JIRA_SEARCH_LAG_SECONDS": 1,
        "REDIS_URL": redis,
        "OUTBOX_RELAY_AFTER_SECONDS": 1,
        "JOB_RETRY_INTERVALS": "1,1,1,2,2,3,3,5,5",
    }
    cfg.update(over)
    return cfg
