"""Hostile or malformed input gets a clear answer, never a 500; settings cannot be
switched by stray values (issue 7, cases 6 and 7)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import requests
import sqlalchemy as sa
from helpers import PRODUCTION_ENV, PUBLIC, jira_settings, sign, sign_jira
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standins import ServedApp
from supportbot import config, logs
from supportbot.extensions import db
from supportbot.models import StatusCallback

PROD = PRODUCTION_ENV
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def formatted_logs():
    """What the deployed log handler prints: our formatter, on the root logger."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.RedactingFormatter(logs.TEXT_FORMAT))
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield out
    root.removeHandler(handler)


@pytest.fixture
def jira_client(make_app, jira):
    return make_app(**jira_settings(jira, redis=None, JIRA_WEBHOOK_TOKEN="url-token-1234")).test_client()


def signed_jira(client, body: bytes, secret: str = "jira-webhook-secret"):
    return client.post(
        "/jira/webhook", data=body, headers={**JSON, "X-Hub-Signature": sign_jira(body, secret)}
    )


# --- 6. the ?token= fallback ------------------------------------------------------


def test_the_url_token_is_its_own_secret_and_off_unless_set(make_app, jira, jira_client):
    body = b'{"webhookEvent": "jira:issue_updated"}'
    assert jira_client.post("/jira/webhook?token=url-token-1234", data=body, headers=JSON).status_code == 204
    assert (
        jira_client.post("/jira/webhook?token=jira-webhook-secret", data=body, headers=JSON).status_code
        == 403
    )
    off = make_app(**jira_settings(jira, redis=None)).test_client()
    assert off.post("/jira/webhook?token=url-token-1234", data=body, headers=JSON).status_code == 403
    assert off.post("/jira/webhook?token=", data=body, headers=JSON).status_code == 403


def test_the_development_server_never_logs_the_url_token(make_app, jira, formatted_logs):
    app = make_app(**jira_settings(jira, redis=None, JIRA_WEBHOOK_TOKEN="url-token-1234"))
    served = ServedApp(app)  # werkzeug's server, as `flask run` serves development
    try:
        resp = requests.post(
            served.url + "/jira/webhook?token=url-token-1234", data=b"{}", headers=JSON, timeout=5
        )
        assert resp.status_code == 204
    finally:
        served.close()
    printed = formatted_logs.getvalue()
    assert "POST /jira/webhook?token=[hidden]" in printed and "url-token-1234" not in printed


# --- 7. settings ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["false", "true", "1", "0"])
def test_testing_in_the_environment_never_switches_the_production_checks_off(value):
    env = {k: v for k, v in PROD.items() if k != "SECRET_KEY"}
    with pytest.raises(config.ConfigError, match="SECRET_KEY is required"):
        config.load({**env, "TESTING": value})


@pytest.mark.parametrize("value", ["ture", "enabled", "2"])
def test_a_boolean_setting_refuses_a_value_it_does_not_know(value):
    with pytest.raises(config.ConfigError, match="JIRA_ATTACH_MEDIA must be true or false"):
        config.load({**PROD, "JIRA_ATTACH_MEDIA": value})


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("Off", False), ("", False)])
def test_a_boolean_setting_reads_the_words_it_knows(value, expected):
    assert config.load({**PROD, "JIRA_ATTACH_MEDIA": value}).jira_attach_media is expected


@pytest.mark.parametrize("name", ["TWILIO_AUTH_TOKEN", "SECRET_KEY"])
def test_production_refuses_the_published_development_values(name):
    with pytest.raises(config.ConfigError, match=f"{name} is the published development value"):
        config.load({**PROD, name: config.DEV_VALUES[name]})


def test_a_dotenv_file_cannot_change_the_mode(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("SUPPORTBOT_ENV=development\nSB_TEST_FROM_DOTENV=read\n")
    monkeypatch.delenv("SUPPORTBOT_ENV", raising=False)
    monkeypatch.delenv("SB_TEST_FROM_DOTENV", raising=False)
    config.read_dotenv(str(env_file))  # production: .env is not read at all
    assert "SB_TEST_FROM_DOTENV" not in __import__("os").environ
    assert config.mode(__import__("os").environ) == config.PRODUCTION
    monkeypatch.setenv("SUPPORTBOT_ENV", "development")
    config.read_dotenv(str(env_file))  # development reads it, mode excepted
    assert __import__("os").environ["SB_TEST_FROM_DOTENV"] == "read"


def test_a_killed_workers_job_runs_again_within_two_minutes_by_default():
    """RQ expires a non-forking worker's job entry JOB_TIMEOUT_SECONDS +
    JOB_ABANDON_GRACE_SECONDS after it started; the next maintenance pass retries it
    (docs/operations.md)."""
    settings = config.load(PROD)
    assert settings.worker_maintenance_seconds == 15
    assert settings.job_timeout_seconds + settings.job_abandon_grace_seconds + 15 < 120


# --- 7. malformed webhooks --------------------------------------------------------


def test_a_non_ascii_hub_signature_is_a_403(jira_client):
    headers = {**JSON, "X-Hub-Signature": "sha256=é"}
    assert jira_client.post("/jira/webhook", data=b"{}", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": "yesterday"}', "timestamp must be"),
        (b'{"webhookEvent": "comment_created", "comment": ["x"]}', "comment must be an object"),
        (b"[" * 20000 + b"]" * 20000, "nested too deeply"),
        (b'{"webhookEvent": "comment_created", "issue": {"key": 7}}', "issue.key must be a str"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": 99999999999999999999999}', "timestamp"),
        (b'{"webhookEvent": "comment_created", "comment": {"id": "' + b"9" * 300 + b'"}}', "longer than 64"),
    ],
)
def test_a_signed_but_malformed_jira_body_is_a_400_with_a_reason(jira_client, body, reason):
    resp = signed_jira(jira_client, body)
    assert resp.status_code == 400 and reason in resp.get_data(as_text=True)


def test_a_status_callback_with_an_absurd_error_code_is_stored_as_unknown(app, client):
    form = {"MessageSid": "SMabsurd", "MessageStatus": "failed", "ErrorCode": "99999999999"}
    resp = client.post(
        "/twilio/status",
        data=form,
        headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/status", form)},
    )
    assert resp.status_code == 204
    with app.app_context():
        stored = db.session.scalars(sa.select(StatusCallback)).one()
        assert stored.error_code is None and ["ErrorCode", "99999999999"] in stored.raw_form


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
JIRA_KEYS = st.sampled_from(["webhookEvent", "timestamp", "issue", "comment", "user", "x"])
JIRA_EVENTS = st.sampled_from(["comment_created", "jira:issue_updated", "jira:issue_created", "other", 5])
ISSUE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "key": st.one_of(st.just("SUP-1"), JSON_VALUES),
        "fields": st.one_of(
            st.fixed_dictionaries({}, optional={"status": JSON_VALUES, "project": JSON_VALUES}), JSON_VALUES
        ),
    },
)
COMMENT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "body": JSON_VALUES,
        "author": JSON_VALUES,
        "visibility": JSON_VALUES,
        "jsdPublic": JSON_VALUES,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=JIRA_EVENTS,
    stamp=JSON_VALUES,
    issue=st.one_of(ISSUE_LIKE, JSON_VALUES),
    comment=st.one_of(COMMENT_LIKE, JSON_VALUES),
    extra=st.dictionaries(JIRA_KEYS, JSON_VALUES, max_size=2),
)
def test_arbitrary_signed_jira_bodies_never_500(jira_client, event, stamp, issue, comment, extra):
    payload = {**extra, "webhookEvent": event, "timestamp": stamp, "issue": issue, "comment": comment}
    resp = signed_jira(jira_client, json.dumps(payload).encode())
    assert resp.status_code in (204, 400), resp.data


STATUS_KEYS = st.sampled_from(
    ["MessageSid", "MessageStatus", "SmsStatus", "ErrorCode", "RawDlrDoneDate", "X"]
)
STATUS_VALUES = st.one_of(
    st.text(max_size=100),
    st.sampled_from(
        ["delivered", "failed", "undelivered", "sent", "30003", "-1", "99999999999999999999", ""]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(STATUS_KEYS, STATUS_VALUES), max_size=10))
def test_arbitrary_signed_status_callbacks_never_500(client, pairs):
    from werkzeug.datastructures import MultiDict

    form = MultiDict(pairs)
    resp = client.post(
        "/twilio/status",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(PUBLIC + "/twilio/status", list(form.items(multi=True)))},
    )
    assert resp.status_code in (204, 400), resp.data
