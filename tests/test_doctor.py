"""`flask --app wsgi doctor`: every seeded misconfiguration is reported with its fix, through the
real twilio and jira clients talking HTTP to the stand-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import HAVE_REDIS, PUBLIC, jira_settings, publish_unparseable_version

from standins import ROOT, ServedApp, Worker, free_port, wait_until
from supportbot import create_app
from supportbot.extensions import db
from supportbot.models import Outbox
from supportbot.sandbox.twilio_setup import DEV_NUMBER, DEV_SERVICE_SID

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")

INBOUND, STATUS = PUBLIC + "/twilio/inbound", PUBLIC + "/twilio/status"


def good_settings(jira, sandbox) -> dict:
    return {
        **jira_settings(jira),
        "TWILIO_API_BASE_URL": sandbox.url,
        "TWILIO_MESSAGING_SERVICE_SID": DEV_SERVICE_SID,
        "TWILIO_FROM_NUMBER": None,
        "SECRET_KEY": "a-production-secret-of-some-length",
        "METRICS_TOKEN": "metrics-token",
        "JIRA_AGENT_GROUPS": "support-agents",
        "JIRA_AGENT_ACCOUNTS": "agent-alice",
        "JIRA_REOPEN_TRANSITION": "To Do",
    }


def point_sandbox_at_us(sandbox) -> None:
    sandbox_setup(sandbox, number={"phone_number": DEV_NUMBER, "sms_url": INBOUND})
    sandbox_setup(
        sandbox, service={"sid": DEV_SERVICE_SID, "inbound_request_url": INBOUND, "status_callback": STATUS}
    )


def sandbox_setup(sandbox, **knobs) -> None:
    import requests

    requests.post(sandbox.url + "/_control/setup", json=knobs, timeout=5).raise_for_status()


def jira_admin(jira, **knobs) -> None:
    import requests

    requests.post(jira.url + "/_control/admin", json=knobs, timeout=5).raise_for_status()


def doctor(app) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["doctor"])
    return result.exit_code, result.output.strip().splitlines()


@pytest.fixture
def setup(make_app, jira, sandbox, redis_conn):
    point_sandbox_at_us(sandbox)

    def build(**over):
        return make_app(**{**good_settings(jira, sandbox), **over})

    return build


def test_a_good_setup_passes_with_every_check_ok(setup, tmp_path):
    app = setup()
    worker = Worker(app.raw_config, tmp_path / "worker.log")
    try:
        wait_until(lambda: "ok    workers: 1 alive" in doctor(app)[1], 20, "the worker to register")
        code, lines = doctor(app)
    finally:
        worker.stop()
    assert code == 0, "\n".join(lines)
    # the one thing a stand-in on loopback cannot have is https
    assert [line.split(":")[0] for line in lines[:-1] if not line.startswith("ok ")] == ["warn  JIRA_URL"]
    text = "\n".join(lines)
    for expected in (
        "twilio credentials: the account is active",
        f"messaging service {DEV_SERVICE_SID}: inbound request URL is POST {INBOUND}",
        "a2p 10dlc: campaign",
        "opt-out handling: Twilio answers STOP",
        "jira credentials: signed in as",
        "jira project: SUP",
        "jira agents: group 'support-agents' exists",
        "migrations: at head",
    ):
        assert expected in text
    assert lines[-1].endswith("0 failed: ready")


# (settings, Twilio sandbox knobs, Jira stand-in knobs, status, what the line says, what the fix says)
CASES = {
    "wrong auth token": (
        {"TWILIO_AUTH_TOKEN": "not-the-token"},
        {},
        {},
        "fail",
        "twilio credentials: Twilio answered 401 (error 20003)",
        "TWILIO_AUTH_TOKEN",
    ),
    "suspended account": (
        {},
        {"account_status": "suspended"},
        {},
        "fail",
        "the account is suspended",
        "reactivate",
    ),
    "service URL elsewhere": (
        {},
        {"service": {"sid": DEV_SERVICE_SID, "inbound_request_url": "https://old.example.com/sms"}},
        {},
        "fail",
        "its inbound request URL is POST https://old.example.com/sms, and it overrides",
        f"POST {INBOUND}",
    ),
    "no service of that sid": (
        {"TWILIO_MESSAGING_SERVICE_SID": "MG" + "9" * 32},
        {},
        {},
        "fail",
        "Twilio answered 404 (error 20404)",
        "TWILIO_MESSAGING_SERVICE_SID",
    ),
    "status callback elsewhere": (
        {},
        {"service": {"sid": DEV_SERVICE_SID, "status_callback": "https://old.example.com/status"}},
        {},
        "warn",
        "status callback: is https://old.example.com/status",
        f"set the status callback to {STATUS}",
    ),
    "no senders": (
        {},
        {"service": {"sid": DEV_SERVICE_SID, "senders": []}},
        {},
        "fail",
        "has no phone number in its sender pool",
        "Sender Pool",
    ),
    "campaign pending": (
        {},
        {"service": {"sid": DEV_SERVICE_SID, "campaigns": [{"campaign_status": "PENDING"}]}},
        {},
        "fail",
        "a2p 10dlc: the campaign is PENDING, not VERIFIED",
        "wait for approval",
    ),
    "no campaign": (
        {},
        {"service": {"sid": DEV_SERVICE_SID, "campaigns": []}},
        {},
        "fail",
        "a2p 10dlc: no A2P 10DLC campaign",
        "Regulatory Compliance",
    ),
    "campaign opt-out word we do not know": (
        {},
        {
            "service": {
                "sid": DEV_SERVICE_SID,
                "campaigns": [{"campaign_status": "VERIFIED", "opt_out_keywords": ["STOP", "ARRET"]}],
            }
        },
        {},
        "warn",
        "opt-out keywords: the campaign names ARRET as opt-out",
        "STOP aliases",
    ),
    "number with the wrong method": (
        {"TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": DEV_NUMBER},
        {"number": {"phone_number": DEV_NUMBER, "sms_method": "GET"}},
        {},
        "fail",
        f'number {DEV_NUMBER}: "A message comes in" is GET {INBOUND}',
        f"POST {INBOUND}",
    ),
    "number on a TwiML app": (
        {"TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": DEV_NUMBER},
        {"number": {"phone_number": DEV_NUMBER, "sms_application_sid": "AP" + "1" * 32}},
        {},
        "fail",
        "its SMS go to TwiML App",
        "choose Webhook",
    ),
    "number not in the account": (
        {"TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": "+14155550199"},
        {},
        {},
        "fail",
        "number +14155550199: is not a number of this account",
        "TWILIO_FROM_NUMBER",
    ),
    "US long code without a service": (
        {"TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": DEV_NUMBER},
        {},
        {},
        "warn",
        "a2p 10dlc: +15005550006 is a US long code sending without a Messaging Service",
        "TWILIO_MESSAGING_SERVICE_SID",
    ),
    "short code and Twilio said to answer STOP": (
        {"TWILIO_MESSAGING_SERVICE_SID": None, "TWILIO_FROM_NUMBER": "12345"},
        {"number": {"phone_number": "12345", "sms_url": INBOUND}},
        {},
        "fail",
        "opt-out handling: sender 12345 is a short code",
        "twilio_answers_keywords: false",
    ),
    "jira refuses the credentials": (
        {},
        {},
        {"refuse_auth": True},
        "fail",
        "jira credentials: Jira answered 401",
        "JIRA_API_TOKEN",
    ),
    "no such project": (
        {"JIRA_PROJECT_KEY": "OPS"},
        {},
        {},
        "fail",
        "jira project: OPS: Jira answered 404",
        "JIRA_PROJECT_KEY",
    ),
    "no such issue type": (
        {"JIRA_ISSUE_TYPE": "Story"},
        {},
        {},
        "fail",
        "Story is not an issue type of SUP (it has Task, Bug)",
        "JIRA_ISSUE_TYPE",
    ),
    "unknown transition": (
        {"JIRA_ACK_TRANSITION": "Acknowledge"},
        {},
        {},
        "warn",
        "JIRA_ACK_TRANSITION 'Acknowledge' is neither",
        "JIRA_ACK_TRANSITION",
    ),
    "no such group": (
        {"JIRA_AGENT_GROUPS": "helpdesk"},
        {},
        {},
        "fail",
        "jira agents: group 'helpdesk': Jira answered 404",
        "JIRA_AGENT_GROUPS",
    ),
    "no such account": (
        {"JIRA_AGENT_ACCOUNTS": "agent-zed"},
        {},
        {},
        "fail",
        "jira agents: account 'agent-zed': Jira answered 404",
        "JIRA_AGENT_ACCOUNTS",
    ),
    "no agents named": (
        {"JIRA_AGENT_GROUPS": None, "JIRA_AGENT_ACCOUNTS": None},
        {},
        {},
        "fail",
        "neither JIRA_AGENT_GROUPS nor",
        "JIRA_AGENT_GROUPS",
    ),
    "http public URL": (
        {"PUBLIC_BASE_URL": "http://bot.example.com"},
        {},
        {},
        "fail",
        "PUBLIC_BASE_URL: http://bot.example.com is not https",
        "https origin",
    ),
    "development secret": (
        {"SECRET_KEY": "dev-secret-key"},
        {},
        {},
        "fail",
        "SECRET_KEY: missing, the development value",
        "token_hex",
    ),
    "metrics open": ({"METRICS_TOKEN": None}, {}, {}, "warn", "METRICS_TOKEN: unset", "bearer token"),
    "no webhook secret": (
        {"JIRA_WEBHOOK_SECRET": None},
        {},
        {},
        "fail",
        "JIRA_WEBHOOK_SECRET: unset",
        "same secret",
    ),
    "no worker": ({}, {}, {}, "fail", "workers: no RQ worker is alive", "flask --app wsgi worker"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_misconfiguration_is_reported_with_its_fix(setup, sandbox, jira, case):
    over, twilio_knobs, jira_knobs, status, says, fix = CASES[case]
    for key, value in twilio_knobs.items():
        sandbox_setup(sandbox, **{key: value})
    if jira_knobs:
        jira_admin(jira, **jira_knobs)
    code, lines = doctor(setup(**over))
    hits = [line for line in lines if says in line]
    assert hits, f"no line says {says!r}:\n" + "\n".join(lines)
    assert hits[0].startswith(f"{status} "), hits[0]
    assert "-- fix: " in hits[0] and fix in hits[0].split("-- fix: ", 1)[1], hits[0]
    assert code == 1  # every case runs without a worker, so at least that line fails


def test_a_service_that_defers_to_its_numbers_checks_each_number(setup, sandbox):
    sandbox_setup(
        sandbox,
        service={"sid": DEV_SERVICE_SID, "use_inbound_webhook_on_number": True, "inbound_request_url": ""},
    )
    _, lines = doctor(setup())
    assert any(
        line.startswith(f"ok    number {DEV_NUMBER}") and "defers to its numbers" in line for line in lines
    )
    sandbox_setup(sandbox, number={"phone_number": DEV_NUMBER, "sms_url": "https://old.example.com/sms"})
    _, lines = doctor(setup())
    (line,) = [line for line in lines if line.startswith(f"fail  number {DEV_NUMBER}")]
    assert "https://old.example.com/sms" in line and f"POST {INBOUND}" in line


def test_a_stuck_outbox_and_a_refused_keyword_file_fail(setup):
    app = setup()
    with app.app_context():
        db.session.add(
            Outbox(
                kind="send_sms",
                payload={"message_id": 1},
                state="pending",
                created_at=datetime.now(UTC) - timedelta(minutes=5),
            )
        )
        db.session.commit()
    publish_unparseable_version(app)
    _, lines = doctor(app)
    assert any(line.startswith("fail  outbox: 1 pending, the oldest 300s old") for line in lines), lines
    assert any(
        line.startswith("fail  keywords: the configuration is refused") and "keywords publish" in line
        for line in lines
    )


def test_an_unmigrated_database_fails_with_the_upgrade_command(setup, tmp_path):
    # make_app always uses the migrated test database: build this one directly
    app = create_app({**setup().raw_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    _, lines = doctor(app)
    (line,) = [line for line in lines if line.startswith("fail  migrations")]
    assert "an empty database" in line and "flask --app wsgi db upgrade" in line


def test_make_runs_development_setup_passes(migrated, tmp_path):
    """Development as `make run` has it: no Redis, local tickets, the built-in sandbox mounted."""
    from helpers import database_url

    port = free_port()
    app = create_app(
        {
            "SUPPORTBOT_ENV": "development",
            "DATABASE_URL": database_url(migrated),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "KEYWORDS_FILE": str(ROOT / "keywords.yaml"),
        }
    )
    served = ServedApp(app, port)
    try:
        code, lines = doctor(app)
    finally:
        served.close()
        with app.app_context():
            db.engine.dispose()
    assert code == 0, "\n".join(lines)
    assert not [line for line in lines if line.startswith("fail")]
    assert any(line.startswith("ok    twilio credentials") for line in lines)
