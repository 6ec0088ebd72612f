"""Doctor: the settings themselves (required, production values, an https public URL)."""

from __future__ import annotations

from urllib.parse import urlsplit

from supportbot import config as cfg_module
from supportbot.config import Settings
from supportbot.doctor.report import Check, fail, ok, warn
from supportbot.phone import is_e164

SECRET_HINT = "python -c 'import secrets; print(secrets.token_hex(32))'"  # noqa: S105 - a command, not a secret


def check(
    config: Settings, keyword_error: str | None, keyword_source: str = "keywords: valid"
) -> list[Check]:
    prod = config.env == cfg_module.PRODUCTION
    out = [_environment(prod)]
    out += _secrets(config, prod)
    out.append(_sender(config))
    out.append(_public_url(config, prod))
    if prod and config.database_url.startswith("sqlite"):
        out.append(fail("DATABASE_URL", "SQLite in production", "set DATABASE_URL to your Postgres"))
    if prod and not config.metrics_token:
        out.append(
            warn(
                "METRICS_TOKEN",
                "unset: /metrics is open to whoever reaches it",
                "set METRICS_TOKEN and give Prometheus the same value as a bearer token",
            )
        )
    if keyword_error:
        out.append(
            fail(
                "keywords",
                f"the configuration is refused: {keyword_error}",
                "publish a valid version (`flask --app wsgi keywords check FILE`, then `keywords publish`)",
            )
        )
    else:
        out.append(ok("keywords", keyword_source))
    out += _jira_settings(config, prod)
    return out


def _environment(prod: bool) -> Check:
    if prod:
        return ok("SUPPORTBOT_ENV", "production")
    return warn(
        "SUPPORTBOT_ENV",
        "development: sandbox Twilio, development secrets, jobs without Redis run in process",
        "set SUPPORTBOT_ENV=production (or leave it unset) and the settings in README for a real deployment",
    )


def _secrets(config: Settings, prod: bool) -> list[Check]:
    out = []
    secret = config.secret_key or ""
    if prod and (secret == cfg_module.DEV_SECRET_KEY or len(secret) < 16):
        out.append(
            fail(
                "SECRET_KEY", "missing, the development value, or shorter than 16", f"set it to {SECRET_HINT}"
            )
        )
    else:
        out.append(ok("SECRET_KEY", "set"))
    sid, token = config.twilio_account_sid or "", config.twilio_auth_token or ""
    if not (sid.startswith("AC") and len(sid) == 34):
        out.append(
            fail(
                "TWILIO_ACCOUNT_SID",
                "not an account sid (AC followed by 32 hex digits)",
                "copy the Account SID from the Twilio Console's Account Info",
            )
        )
    elif prod and (sid == cfg_module.DEV_ACCOUNT_SID or token == cfg_module.DEV_AUTH_TOKEN or not token):
        out.append(
            fail(
                "TWILIO_AUTH_TOKEN",
                "the development credentials in production",
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the Console's Account Info",
            )
        )
    else:
        out.append(ok("TWILIO_ACCOUNT_SID", f"{sid[:6]}...{sid[-4:]}"))
    return out


def _sender(config: Settings) -> Check:
    service, number = config.twilio_messaging_service_sid, config.twilio_from_number
    if service:
        if service.startswith("MG") and len(service) == 34:
            return ok("sender", f"Messaging Service {service}")
        return fail(
            "TWILIO_MESSAGING_SERVICE_SID",
            f"{service!r} is not a Messaging Service sid (MG followed by 32 hex digits)",
            "copy it from Console > Messaging > Services",
        )
    if number and (is_e164(number) or (number.isdigit() and 5 <= len(number) <= 6)):
        return ok("sender", f"number {number}")
    return fail(
        "TWILIO_FROM_NUMBER",
        f"{number!r} is not an E.164 number or a short code" if number else "no sender is set",
        "set TWILIO_MESSAGING_SERVICE_SID (preferred) or TWILIO_FROM_NUMBER, e.g. +14155550100",
    )


def _public_url(config: Settings, prod: bool) -> Check:
    url = config.public_base_url
    fix = "set PUBLIC_BASE_URL to the https origin Twilio and Jira call, e.g. https://support.example.com"
    if not url:
        if prod:
            return fail(
                "PUBLIC_BASE_URL", "unset: replies carry no StatusCallback (no delivery receipts)", fix
            )
        return ok("PUBLIC_BASE_URL", f"unset: development serves {cfg_module.DEV_BASE_URL}")
    parts = urlsplit(url)
    if prod and parts.scheme != "https":
        return fail(
            "PUBLIC_BASE_URL", f"{url} is not https: Twilio's requests and signatures travel in clear", fix
        )
    if parts.path not in ("", "/") or parts.query:
        return fail("PUBLIC_BASE_URL", f"{url} has a path or query: give the origin only", fix)
    return ok("PUBLIC_BASE_URL", url)


def _jira_settings(config: Settings, prod: bool) -> list[Check]:
    if not config.jira_url:
        return [ok("JIRA_URL", "unset: tickets are kept in the local database")]
    out = []
    if not config.jira_webhook_secret:
        out.append(
            fail(
                "JIRA_WEBHOOK_SECRET",
                "unset: /jira/webhook cannot tell Jira from anyone else",
                "set it, and the same secret on the Jira webhook",
            )
        )
    else:
        out.append(ok("JIRA_WEBHOOK_SECRET", "set"))
    if not (config.jira_agent_groups or config.jira_agent_accounts):
        out.append(
            fail(
                "JIRA_AGENT_GROUPS",
                "neither JIRA_AGENT_GROUPS nor JIRA_AGENT_ACCOUNTS is set: no comment counts as an agent's",
                "set JIRA_AGENT_GROUPS (e.g. support-agents) or JIRA_AGENT_ACCOUNTS",
            )
        )
    if prod and not config.jira_url.startswith("https://"):
        out.append(warn("JIRA_URL", f"{config.jira_url} is not https", "use Jira's https address"))
    return out
