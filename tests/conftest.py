"""Fixtures: the real Postgres and Redis of this machine (SQLite only when neither answers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib
from browser_stack import SCREENSHOTS
from flask import Flask
from flask.testing import FlaskClient
from helpers import (  # noqa: F401 - also re-exported for modules that still import them from here
    ACCOUNT_SID,
    AUTH_TOKEN,
    HAVE_PG,
    HAVE_REDIS,
    PG_URL,
    PUBLIC,
    REDIS_URL,
    ROOT,
    Desk,
    base_config,
    database_url,
    inbound_form,
    jira_settings,
    post_signed,
    reset_database,
    sign,
    truncate_all,
)

from standins import JiraStandin, Sandbox, create_jira_standin
from supportbot import create_app
from supportbot.extensions import db
from supportbot.sandbox.twilio import create_twilio_sandbox


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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


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


@pytest.fixture
def jira():
    served = JiraStandin(create_jira_standin())
    yield served
    served.close()


@pytest.fixture
def sandbox():
    served = Sandbox(create_twilio_sandbox(ACCOUNT_SID, AUTH_TOKEN))
    yield served
    served.close()


@pytest.fixture
def desk(make_app, jira, sandbox, redis_conn):
    """Build the whole system for a test: the web app on HTTP, wired to the stand-ins."""
    made = []

    def build(**over):
        d = Desk(make_app, jira, sandbox, **over)
        made.append(d)
        return d

    yield build
    for d in made:
        d.close()
