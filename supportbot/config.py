"""Every setting, read in one place: name, type, default and why."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

PRODUCTION = "production"
DEVELOPMENT = "development"

# dev-only values: never accepted in production (see check_required)
DEV_ACCOUNT_SID = "AC" + "0" * 32
DEV_AUTH_TOKEN = "dev-auth-token"  # noqa: S105 - the sandbox's token, dev only
DEV_SECRET_KEY = "dev-secret-key"  # noqa: S105
DEV_FROM_NUMBER = "+15005550006"  # Twilio's magic "valid sender" test number
DEV_BASE_URL = "http://127.0.0.1:5000"  # where `make run` serves


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming it."""


def _int(name: str, raw: Any, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _float(name: str, raw: Any, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _bool(raw: Any, default: bool) -> bool:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"1", "true", "yes", "on"}


# about 3.5 hours of retries with growing gaps
DEFAULT_RETRY_INTERVALS = (2, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)


def _intervals(raw: Any) -> tuple[int, ...]:
    if raw is None or raw == "":
        return DEFAULT_RETRY_INTERVALS
    try:
        values = tuple(int(x) for x in str(raw).split(","))
    except ValueError:
        raise ConfigError(f"JOB_RETRY_INTERVALS must be comma-separated seconds, got {raw!r}") from None
    if not values or min(values) < 0:
        raise ConfigError(f"JOB_RETRY_INTERVALS must be comma-separated seconds, got {raw!r}")
    return values


def _list(raw: Any) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    if isinstance(raw, list | tuple):
        return tuple(str(x).strip() for x in raw if str(x).strip())
    return tuple(x.strip() for x in str(raw).split(",") if x.strip())


def _choice(name: str, raw: Any, choices: tuple[str, ...]) -> str:
    if raw is None or raw == "":
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return str(raw)


def _database_url(raw: str | None) -> str:
    if not raw:
        return "sqlite:///supportbot.db"  # Flask-SQLAlchemy puts relative SQLite under instance/
    # Heroku-style URLs name the scheme "postgres"; SQLAlchemy wants the driver spelled out
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def load(test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the app config from the environment, or from a test mapping alone."""
    src: Mapping[str, Any] = test_config if test_config is not None else os.environ
    env = src.get("SUPPORTBOT_ENV") or PRODUCTION
    if env not in (PRODUCTION, DEVELOPMENT):
        raise ConfigError(f"SUPPORTBOT_ENV must be production or development, got {env!r}")
    dev = env == DEVELOPMENT

    cfg: dict[str, Any] = {
        "SUPPORTBOT_ENV": env,
        "TESTING": bool(src.get("TESTING", False)),
        "SQLALCHEMY_DATABASE_URI": _database_url(src.get("DATABASE_URL")),
        "REDIS_URL": src.get("REDIS_URL") or None,
        "PUBLIC_BASE_URL": (src.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", src.get("TRUSTED_PROXIES"), 0),
        "TWILIO_ACCOUNT_SID": src.get("TWILIO_ACCOUNT_SID") or (DEV_ACCOUNT_SID if dev else None),
        "TWILIO_AUTH_TOKEN": src.get("TWILIO_AUTH_TOKEN") or (DEV_AUTH_TOKEN if dev else None),
        "TWILIO_MESSAGING_SERVICE_SID": src.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_FROM_NUMBER": src.get("TWILIO_FROM_NUMBER") or None,
        "TWILIO_API_BASE_URL": (src.get("TWILIO_API_BASE_URL") or "").rstrip("/") or None,
        "TWILIO_TIMEOUT": _float("TWILIO_TIMEOUT", src.get("TWILIO_TIMEOUT"), 10.0),
        "JIRA_URL": (src.get("JIRA_URL") or "").rstrip("/") or None,
        "JIRA_USER": src.get("JIRA_USER") or None,
        "JIRA_API_TOKEN": src.get("JIRA_API_TOKEN") or None,
        "JIRA_PROJECT_KEY": src.get("JIRA_PROJECT_KEY") or "SUP",
        "JIRA_ISSUE_TYPE": src.get("JIRA_ISSUE_TYPE") or "Task",
        "JIRA_WEBHOOK_SECRET": src.get("JIRA_WEBHOOK_SECRET") or None,
        "JIRA_REOPEN_TRANSITION": src.get("JIRA_REOPEN_TRANSITION") or "Reopen",
        "JIRA_ACK_TRANSITION": src.get("JIRA_ACK_TRANSITION") or None,
        "JIRA_ATTACH_MEDIA": _bool(src.get("JIRA_ATTACH_MEDIA"), False),
        "JIRA_TIMEOUT": _float("JIRA_TIMEOUT", src.get("JIRA_TIMEOUT"), 10.0),
        # Jira's JQL search can lag behind a create: a retried create that does not find
        # its issue waits this long after the earlier request before creating again
        "JIRA_SEARCH_LAG_SECONDS": _float(
            "JIRA_SEARCH_LAG_SECONDS", src.get("JIRA_SEARCH_LAG_SECONDS"), 30.0
        ),
        # how a delivered reply shows on its ticket: a property on the Jira comment,
        # a short note, or nothing
        "DELIVERY_RECEIPTS": _choice(
            "DELIVERY_RECEIPTS", src.get("DELIVERY_RECEIPTS"), ("property", "note", "off")
        ),
        # a comment starting with this sends the rest as an SMS (see README, agent replies)
        "AGENT_SMS_PREFIX": src.get("AGENT_SMS_PREFIX") or "/sms",
        "KEYWORDS_FILE": src.get("KEYWORDS_FILE") or "keywords.yaml",
        # how often a process looks at the keyword file; two processes see a change
        # within this plus one request
        "KEYWORDS_POLL_SECONDS": _float("KEYWORDS_POLL_SECONDS", src.get("KEYWORDS_POLL_SECONDS"), 1.0),
        "SECRET_KEY": src.get("SECRET_KEY") or (DEV_SECRET_KEY if dev else None),
        "ADMIN_PASSWORD": src.get("ADMIN_PASSWORD") or ("admin" if dev else None),
        "OUTBOUND_MPS": _float("OUTBOUND_MPS", src.get("OUTBOUND_MPS"), 1.0),
        "REOPEN_WINDOW_HOURS": _float("REOPEN_WINDOW_HOURS", src.get("REOPEN_WINDOW_HOURS"), 72.0),
        # rows still pending this long after commit are re-enqueued by the relay
        "OUTBOX_RELAY_AFTER_SECONDS": _float(
            "OUTBOX_RELAY_AFTER_SECONDS", src.get("OUTBOX_RELAY_AFTER_SECONDS"), 5.0
        ),
        # seconds between a failed job's retries (jittered); the last one repeats no more
        "JOB_RETRY_INTERVALS": _intervals(src.get("JOB_RETRY_INTERVALS")),
        # how often a worker cleans RQ's registries, which retries jobs of killed workers
        "WORKER_MAINTENANCE_SECONDS": _int(
            "WORKER_MAINTENANCE_SECONDS", src.get("WORKER_MAINTENANCE_SECONDS"), 30
        ),
        # /metrics answers only with "Authorization: Bearer <token>" when set
        "METRICS_TOKEN": src.get("METRICS_TOKEN") or None,
        # an RQ worker serves its own /metrics here (0: none); see docs/metrics.md
        "METRICS_PORT": _int("METRICS_PORT", src.get("METRICS_PORT"), 0),
        "METRICS_HOST": src.get("METRICS_HOST") or "0.0.0.0",  # noqa: S104 - Prometheus scrapes from elsewhere
        # text for people in development, json (one object per line) for log pipelines
        "LOG_FORMAT": _choice("LOG_FORMAT", src.get("LOG_FORMAT"), ("text", "json")),
        # who counts as an agent in Jira (comma-separated); doctor checks that they exist
        "JIRA_AGENT_GROUPS": _list(src.get("JIRA_AGENT_GROUPS")),
        "JIRA_AGENT_ACCOUNTS": _list(src.get("JIRA_AGENT_ACCOUNTS")),
        # Twilio's own limit for a webhook body is far below this; see DESIGN.md
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "DATABASE_URL_SET": bool(src.get("DATABASE_URL")),
    }
    if dev and not (cfg["TWILIO_MESSAGING_SERVICE_SID"] or cfg["TWILIO_FROM_NUMBER"]):
        cfg["TWILIO_FROM_NUMBER"] = DEV_FROM_NUMBER
    if dev and not cfg["TWILIO_API_BASE_URL"]:
        # development sends to the built-in sandbox that make run serves
        cfg["TWILIO_API_BASE_URL"] = (cfg["PUBLIC_BASE_URL"] or DEV_BASE_URL) + "/sandbox/twilio"
    cfg["TICKET_BACKEND"] = "jira" if cfg["JIRA_URL"] else "local"
    check_required(cfg)
    return cfg


def check_required(cfg: Mapping[str, Any]) -> None:
    """Outside development a missing required setting stops start-up, naming it."""
    if cfg["SUPPORTBOT_ENV"] != PRODUCTION or cfg["TESTING"]:
        return
    required = [
        ("SECRET_KEY", cfg["SECRET_KEY"]),
        ("TWILIO_ACCOUNT_SID", cfg["TWILIO_ACCOUNT_SID"]),
        ("TWILIO_AUTH_TOKEN", cfg["TWILIO_AUTH_TOKEN"]),
        (
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
            cfg["TWILIO_MESSAGING_SERVICE_SID"] or cfg["TWILIO_FROM_NUMBER"],
        ),
        ("REDIS_URL", cfg["REDIS_URL"]),
        ("DATABASE_URL", cfg["DATABASE_URL_SET"]),
    ]
    if cfg["JIRA_URL"]:
        required.append(("JIRA_WEBHOOK_SECRET", cfg["JIRA_WEBHOOK_SECRET"]))
    for name, value in required:
        if not value:
            raise ConfigError(f"{name} is required in production")
