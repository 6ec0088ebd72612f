"""Every setting, read in one place: name, type, default and why.

`load` returns a frozen Settings; `create_app` keeps it on the app and modules
read it through `current()`. Flask's own keys (SECRET_KEY, the database URI, ...)
are derived from it by `flask_config`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dotenv import dotenv_values
from flask import current_app

log = logging.getLogger(__name__)

PRODUCTION = "production"
DEVELOPMENT = "development"

# dev-only values: never accepted in production (see check_required)
DEV_ACCOUNT_SID = "AC" + "0" * 32
DEV_AUTH_TOKEN = "dev-auth-token"  # noqa: S105 - the sandbox's token, dev only
DEV_SECRET_KEY = "dev-secret-key"  # noqa: S105
DEV_FROM_NUMBER = "+15005550006"  # Twilio's magic "valid sender" test number
DEV_BASE_URL = "http://127.0.0.1:5000"  # where `make run` serves
# the published development values: a production deployment that uses one is open to anyone
DEV_VALUES = {"TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN, "SECRET_KEY": DEV_SECRET_KEY}

# about 3.5 hours of retries with growing gaps
DEFAULT_RETRY_INTERVALS = (2, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
# Twilio's own limit for a webhook body is far below this (DESIGN: 413 over 64 KB)
MAX_CONTENT_LENGTH = 64 * 1024


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Settings:
    env: str
    testing: bool
    database_url: str
    database_url_set: bool
    redis_url: str | None
    redis_timeout_seconds: float
    public_base_url: str | None
    trusted_proxies: int
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_messaging_service_sid: str | None
    twilio_from_number: str | None
    twilio_api_base_url: str | None
    twilio_timeout: float
    jira_url: str | None
    jira_user: str | None
    jira_api_token: str | None
    jira_project_key: str
    jira_issue_type: str
    jira_webhook_secret: str | None
    jira_webhook_token: str | None
    jira_agent_groups: frozenset[str]
    jira_agent_accounts: frozenset[str]
    jira_agent_cache_seconds: float
    jira_reopen_transition: str
    jira_ack_transition: str | None
    jira_attach_media: bool
    jira_timeout: float
    jira_search_lag_seconds: float
    delivery_receipts: str
    agent_sms_prefix: str
    keywords_file: str
    keywords_poll_seconds: float
    secret_key: str | None
    admin_password: str | None
    admin_email: str
    admin_session_hours: float
    admin_signin_limit_account: str
    admin_signin_limit_address: str
    admin_cookie_secure: bool
    ratelimit_enabled: bool
    outbound_mps: float
    reopen_window_hours: float
    outbox_relay_after_seconds: float
    job_retry_intervals: tuple[int, ...]
    worker_maintenance_seconds: int
    job_timeout_seconds: int
    job_abandon_grace_seconds: int
    metrics_token: str | None
    metrics_port: int
    metrics_host: str
    log_format: str
    inbound_inline_limit: int
    inbound_defer_after_ms: float
    inbound_wake: str
    database_pool_size: int

    @property
    def development(self) -> bool:
        return self.env == DEVELOPMENT

    @property
    def ticket_backend(self) -> str:
        return "jira" if self.jira_url else "local"

    @property
    def sender(self) -> str:
        """Who outbound SMS come from: the Messaging Service, else the number."""
        return self.twilio_messaging_service_sid or self.twilio_from_number or ""


def current() -> Settings:
    """The settings of the app in context."""
    settings: Settings = current_app.extensions["settings"]
    return settings


def flask_config(settings: Settings) -> dict[str, Any]:
    """What Flask and its extensions read from app.config, derived from the settings."""
    # statement parameters hold numbers and message bodies: keep them out of every
    # error message, log line, traceback and stored error
    engine: dict[str, Any] = {"hide_parameters": True}
    if settings.database_url.startswith("postgresql"):
        engine.update(pool_size=settings.database_pool_size, max_overflow=4)
    return {
        "SECRET_KEY": settings.secret_key,
        "TESTING": settings.testing,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine,
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "SESSION_COOKIE_SECURE": settings.admin_cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(settings.admin_session_hours * 3600),
        # forms are checked only where the admin console and the dev phone ask (webhooks have signatures)
        "WTF_CSRF_CHECK_DEFAULT": False,
        # a form's token lives as long as the session that issued it
        "WTF_CSRF_TIME_LIMIT": None,
        # sign-in throttling is shared by every process through Redis in production;
        # development and tests count in memory
        "RATELIMIT_STORAGE_URI": (
            settings.redis_url
            if settings.env == PRODUCTION and not settings.testing and settings.redis_url
            else "memory://"
        ),
        "RATELIMIT_ENABLED": settings.ratelimit_enabled,
    }


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


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _positive(name: str, raw: Any, default: int) -> int:
    """A whole number of seconds that RQ or a socket can use: zero or less is refused."""
    value = _int(name, raw, default)
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0, got {raw!r}")
    return value


def _non_negative(name: str, raw: Any, default: int) -> int:
    value = _int(name, raw, default)
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, got {raw!r}")
    return value


def _positive_float(name: str, raw: Any, default: float) -> float:
    value = _float(name, raw, default)
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0, got {raw!r}")
    return value


def _bool(name: str, raw: Any, default: bool) -> bool:
    """A yes/no setting; a value we do not know is refused, never read as False."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _names(raw: Any) -> frozenset[str]:
    """A comma-separated list of names (Jira groups, account ids), blanks dropped."""
    return frozenset(part.strip() for part in str(raw or "").split(",") if part.strip())


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


def _choice(name: str, raw: Any, choices: tuple[str, ...]) -> str:
    if raw is None or raw == "":
        return choices[0]
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return str(raw)


def _text(raw: Any) -> str | None:
    return str(raw) if raw not in (None, "") else None


def _url(raw: Any) -> str | None:
    return (str(raw or "")).rstrip("/") or None


def _database_url(raw: str | None) -> str:
    if not raw:
        return "sqlite:///supportbot.db"  # Flask-SQLAlchemy puts relative SQLite under instance/
    # Heroku-style URLs name the scheme "postgres"; SQLAlchemy wants the driver spelled out
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def read_dotenv(path: str) -> None:
    """Development reads .env under the real environment; production never does.

    The mode comes from the real environment alone: a stray .env saying
    development must not mount the sandbox on a production host.
    """
    if mode(os.environ) != DEVELOPMENT:
        return
    for name, value in dotenv_values(path).items():
        if name == "SUPPORTBOT_ENV":
            continue
        if value is not None:
            os.environ.setdefault(name, value)


def mode(src: Mapping[str, Any]) -> str:
    env = src.get("SUPPORTBOT_ENV") or PRODUCTION
    if env not in (PRODUCTION, DEVELOPMENT):
        raise ConfigError(f"SUPPORTBOT_ENV must be production or development, got {env!r}")
    return str(env)


def load(test_config: Mapping[str, Any] | None = None) -> Settings:
    """The settings from the environment, or from a test mapping alone."""
    src: Mapping[str, Any] = test_config if test_config is not None else os.environ
    env = mode(src)
    dev = env == DEVELOPMENT

    def get(name: str) -> Any:
        return src.get(name)

    public = _url(get("PUBLIC_BASE_URL"))
    from_number = _text(get("TWILIO_FROM_NUMBER"))
    service = _text(get("TWILIO_MESSAGING_SERVICE_SID"))
    if dev and not (service or from_number):
        from_number = DEV_FROM_NUMBER
    api_base = _url(get("TWILIO_API_BASE_URL"))
    if dev and not api_base:
        # development sends to the built-in sandbox that make run serves
        api_base = (public or DEV_BASE_URL) + "/sandbox/twilio"
    settings = Settings(
        env=env,
        # only a test's own mapping can say it is a test: an environment variable
        # named TESTING must never switch the production checks off
        testing=test_config is not None and test_config.get("TESTING") is True,
        database_url=_database_url(get("DATABASE_URL")),
        database_url_set=bool(get("DATABASE_URL")),
        redis_url=_text(get("REDIS_URL")),
        # a Redis that accepts connections but does not answer holds one text's answer
        # this long; the web then leaves new work to the relay for a few seconds
        redis_timeout_seconds=_positive_float("REDIS_TIMEOUT_SECONDS", get("REDIS_TIMEOUT_SECONDS"), 5.0),
        public_base_url=public,
        trusted_proxies=_int("TRUSTED_PROXIES", get("TRUSTED_PROXIES"), 0),
        twilio_account_sid=_text(get("TWILIO_ACCOUNT_SID")) or (DEV_ACCOUNT_SID if dev else None),
        twilio_auth_token=_text(get("TWILIO_AUTH_TOKEN")) or (DEV_AUTH_TOKEN if dev else None),
        twilio_messaging_service_sid=service,
        twilio_from_number=from_number,
        twilio_api_base_url=api_base,
        twilio_timeout=_float("TWILIO_TIMEOUT", get("TWILIO_TIMEOUT"), 10.0),
        jira_url=_url(get("JIRA_URL")),
        jira_user=_text(get("JIRA_USER")),
        jira_api_token=_text(get("JIRA_API_TOKEN")),
        jira_project_key=_text(get("JIRA_PROJECT_KEY")) or "SUP",
        jira_issue_type=_text(get("JIRA_ISSUE_TYPE")) or "Task",
        jira_webhook_secret=_text(get("JIRA_WEBHOOK_SECRET")),
        # accepted as ?token= where Jira cannot sign; off unless set, and never the HMAC secret
        jira_webhook_token=_text(get("JIRA_WEBHOOK_TOKEN")),
        # who may cause an SMS from Jira: members of these groups, or these accounts
        # (account ids on Cloud; user names or keys on Data Center)
        jira_agent_groups=_names(get("JIRA_AGENT_GROUPS")),
        jira_agent_accounts=_names(get("JIRA_AGENT_ACCOUNTS")),
        # how long a looked-up group membership is trusted before Jira is asked again
        jira_agent_cache_seconds=_float("JIRA_AGENT_CACHE_SECONDS", get("JIRA_AGENT_CACHE_SECONDS"), 300.0),
        jira_reopen_transition=_text(get("JIRA_REOPEN_TRANSITION")) or "Reopen",
        jira_ack_transition=_text(get("JIRA_ACK_TRANSITION")),
        jira_attach_media=_bool("JIRA_ATTACH_MEDIA", get("JIRA_ATTACH_MEDIA"), False),
        jira_timeout=_float("JIRA_TIMEOUT", get("JIRA_TIMEOUT"), 10.0),
        # Jira's JQL search can lag behind a create: a retried create that does not find
        # its issue waits this long after the earlier request before creating again
        jira_search_lag_seconds=_float("JIRA_SEARCH_LAG_SECONDS", get("JIRA_SEARCH_LAG_SECONDS"), 30.0),
        # how a delivered reply shows on its ticket: a property on the Jira comment,
        # a short note, or nothing
        delivery_receipts=_choice("DELIVERY_RECEIPTS", get("DELIVERY_RECEIPTS"), ("property", "note", "off")),
        # a comment starting with this sends the rest as an SMS (see README, agent replies)
        agent_sms_prefix=_text(get("AGENT_SMS_PREFIX")) or "/sms",
        keywords_file=_text(get("KEYWORDS_FILE")) or "keywords.yaml",
        # how often a process looks at the keyword file; two processes see a change
        # within this plus one request
        keywords_poll_seconds=_float("KEYWORDS_POLL_SECONDS", get("KEYWORDS_POLL_SECONDS"), 1.0),
        secret_key=_text(get("SECRET_KEY")) or (DEV_SECRET_KEY if dev else None),
        admin_password=_text(get("ADMIN_PASSWORD")) or ("admin" if dev else None),
        # the first admin's email, when ADMIN_PASSWORD creates it on an empty accounts table
        admin_email=(_text(get("ADMIN_EMAIL")) or "admin@localhost").strip().lower(),
        # an admin session ends this long after sign-in, whatever the activity
        admin_session_hours=_positive_float("ADMIN_SESSION_HOURS", get("ADMIN_SESSION_HOURS"), 8.0),
        # failed sign-ins allowed per account and per client address (Flask-Limiter syntax):
        # the per-minute limit slows guessing, the per-hour one refuses it for a while
        admin_signin_limit_account=_text(get("ADMIN_SIGNIN_LIMIT_ACCOUNT")) or "5 per minute; 20 per hour",
        admin_signin_limit_address=_text(get("ADMIN_SIGNIN_LIMIT_ADDRESS")) or "20 per minute; 100 per hour",
        # cookies travel only over https in production; tests over plain http turn it off
        admin_cookie_secure=_bool("ADMIN_COOKIE_SECURE", get("ADMIN_COOKIE_SECURE"), env == PRODUCTION),
        ratelimit_enabled=_bool("RATELIMIT_ENABLED", get("RATELIMIT_ENABLED"), True),
        outbound_mps=_float("OUTBOUND_MPS", get("OUTBOUND_MPS"), 1.0),
        reopen_window_hours=_float("REOPEN_WINDOW_HOURS", get("REOPEN_WINDOW_HOURS"), 72.0),
        # rows still pending this long after commit are re-enqueued by the relay
        outbox_relay_after_seconds=_float(
            "OUTBOX_RELAY_AFTER_SECONDS", get("OUTBOX_RELAY_AFTER_SECONDS"), 5.0
        ),
        # seconds between a failed job's retries (jittered); the last one repeats no more
        job_retry_intervals=_intervals(get("JOB_RETRY_INTERVALS")),
        # how often a worker cleans RQ's registries, which retries jobs of killed workers;
        # 15 keeps a killed worker's job within two minutes with the defaults below
        worker_maintenance_seconds=_int("WORKER_MAINTENANCE_SECONDS", get("WORKER_MAINTENANCE_SECONDS"), 15),
        # a job makes a few Jira or Twilio calls of JIRA_TIMEOUT/TWILIO_TIMEOUT (10 s) at
        # most; past this it is stopped and retried
        job_timeout_seconds=_positive("JOB_TIMEOUT_SECONDS", get("JOB_TIMEOUT_SECONDS"), 40),
        # RQ counts a job as abandoned (its worker died) this long after its timeout has
        # passed; RQ's own fixed value is 60. Shorter retries a killed worker's job
        # sooner, but a live worker must finish its bookkeeping within it
        job_abandon_grace_seconds=_positive(
            "JOB_ABANDON_GRACE_SECONDS", get("JOB_ABANDON_GRACE_SECONDS"), 60
        ),
        # /metrics answers only with "Authorization: Bearer <token>" when set
        metrics_token=_text(get("METRICS_TOKEN")),
        # an RQ worker serves its own /metrics here (0: none); see docs/metrics.md
        metrics_port=_int("METRICS_PORT", get("METRICS_PORT"), 0),
        metrics_host=_text(get("METRICS_HOST")) or "0.0.0.0",  # noqa: S104 - Prometheus scrapes from elsewhere
        # text for people in development, json (one object per line) for log pipelines
        log_format=_choice("LOG_FORMAT", get("LOG_FORMAT"), ("text", "json")),
        # the most texts one process routes inline at once; past it a text is stored,
        # answered with empty TwiML and routed by a worker (its reply goes out by SMS).
        # 1 measured best on 2 cores with the Procfile's 2 x 16 threads (docs/operations.md):
        # a second text routed in the same process only waits for the GIL.
        # 0 defers every text but STOP/START/HELP; no Redis (no worker) defers nothing
        inbound_inline_limit=_non_negative("INBOUND_INLINE_LIMIT", get("INBOUND_INLINE_LIMIT"), 1),
        # a text whose X-Request-Start (sent by a trusted proxy, TRUSTED_PROXIES) says it
        # waited longer than this before reaching us is deferred as well
        inbound_defer_after_ms=_positive_float(
            "INBOUND_DEFER_AFTER_MS", get("INBOUND_DEFER_AFTER_MS"), 500.0
        ),
        # how a deferred text reaches a worker: a Postgres NOTIFY sent by the statement
        # that stores it (no Redis in the request), or an RQ enqueue after commit
        inbound_wake=_choice("INBOUND_WAKE", get("INBOUND_WAKE"), ("notify", "redis", "relay")),
        # connections each process keeps open: at least the web's threads (Procfile), or
        # every request past it opens and closes a Postgres connection of its own
        database_pool_size=_positive("DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE"), 16),
    )
    check_required(settings)
    return settings


def check_required(s: Settings) -> None:
    """Outside development a missing required setting stops start-up, naming it."""
    if s.env != PRODUCTION or s.testing:
        return
    for name, dev_value in DEV_VALUES.items():
        if getattr(s, name.lower()) == dev_value:
            raise ConfigError(f"{name} is the published development value; set a secret of your own")
    required: list[tuple[str, object]] = [
        ("SECRET_KEY", s.secret_key),
        ("TWILIO_ACCOUNT_SID", s.twilio_account_sid),
        ("TWILIO_AUTH_TOKEN", s.twilio_auth_token),
        ("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER", s.sender),
        ("REDIS_URL", s.redis_url),
        ("DATABASE_URL", s.database_url_set),
        # without either, the signed URL would be rebuilt from whatever Host the caller sends
        ("PUBLIC_BASE_URL or TRUSTED_PROXIES", s.public_base_url or s.trusted_proxies),
    ]
    if s.jira_url:
        required.append(("JIRA_WEBHOOK_SECRET", s.jira_webhook_secret))
        required.append(
            ("JIRA_AGENT_GROUPS or JIRA_AGENT_ACCOUNTS", s.jira_agent_groups or s.jira_agent_accounts)
        )
    for name, value in required:
        if not value:
            raise ConfigError(f"{name} is required in production")
