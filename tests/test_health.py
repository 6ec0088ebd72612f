"""Health and readiness, and settings that stop start-up."""

from __future__ import annotations

import pytest
from helpers import REDIS_URL

from supportbot import config


def test_healthz(client):
    assert client.get("/healthz").status_code == 200


def test_readyz_is_200_when_all_is_well(make_app, redis_conn):
    client = make_app(REDIS_URL=REDIS_URL).test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 200, resp.data
    assert resp.mimetype == "text/plain"
    # no problem and no configuration error listed; the keyword line says where the config comes from
    assert resp.data.decode().splitlines() == [
        "ready",
        "keywords: version 1, published in the database (the source of truth)",
    ]


def test_readyz_names_a_refused_keyword_file_and_logs_why(make_app, tmp_path, caplog):
    client = make_app().test_client()
    kw = tmp_path / "keywords.yaml"
    kw.write_text(kw.read_text().replace("action: reply", "action: dance"))
    resp = client.get("/readyz")
    body = resp.data.decode()
    assert resp.status_code == 503 and body == "keywords: not ready (see the logs)\n"
    # the path and the parse error are for the logs, not for whoever asks
    assert str(tmp_path) not in body and "dance" not in body
    assert "unknown action 'dance'" in caplog.text


def test_readyz_names_an_unreachable_redis(make_app):
    client = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.data.decode() == "redis: not ready (see the logs)\n"


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("SECRET_KEY", "SECRET_KEY is required in production"),
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN is required in production"),
        ("REDIS_URL", "REDIS_URL is required in production"),
        (
            "TWILIO_FROM_NUMBER",
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER is required in production",
        ),
        ("DATABASE_URL", "DATABASE_URL is required in production"),
    ],
)
def test_production_stops_on_a_missing_setting_naming_it(missing, named):
    env = {
        "SECRET_KEY": "s",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "REDIS_URL": "redis://x",
        "DATABASE_URL": "postgresql://x/y",
    }
    del env[missing]
    with pytest.raises(config.ConfigError) as info:
        config.load(env)
    assert str(info.value) == named


def test_development_fills_sandbox_values():
    cfg = config.load({"SUPPORTBOT_ENV": "development"})
    assert cfg.twilio_auth_token and cfg.twilio_from_number and cfg.redis_url is None
    assert cfg.database_url.startswith("sqlite:///")


def test_postgres_urls_get_the_psycopg_driver():
    cfg = config.load({"SUPPORTBOT_ENV": "development", "DATABASE_URL": "postgres://u@h/db"})
    assert cfg.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("name", "raw", "named"),
    [
        ("JOB_TIMEOUT_SECONDS", "0", "JOB_TIMEOUT_SECONDS must be more than 0, got '0'"),
        ("REDIS_TIMEOUT_SECONDS", "-1", "REDIS_TIMEOUT_SECONDS must be more than 0, got '-1'"),
        ("JOB_ABANDON_GRACE_SECONDS", "soon", "JOB_ABANDON_GRACE_SECONDS must be a whole number, got 'soon'"),
    ],
)
def test_timings_refuse_what_rq_and_sockets_cannot_use(name, raw, named):
    with pytest.raises(config.ConfigError) as info:
        config.load({"SUPPORTBOT_ENV": "development", name: raw})
    assert str(info.value) == named


def test_job_timings_default_to_rqs_grace_and_a_40_second_timeout():
    cfg = config.load({"SUPPORTBOT_ENV": "development"})
    assert (cfg.job_timeout_seconds, cfg.job_abandon_grace_seconds) == (40, 60)
    assert cfg.worker_maintenance_seconds == 15
