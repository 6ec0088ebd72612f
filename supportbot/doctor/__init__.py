"""`flask --app wsgi doctor`: check the deployment against what supportbot needs.

One line per check (ok, warn or fail, with the fix); exit 1 when any check fails.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from supportbot import config as config_module
from supportbot import twilio_client
from supportbot.doctor import jira, services, settings, twilio
from supportbot.doctor.report import FAIL, Check, fail


def sections() -> list[tuple[str, Callable[[], list[Check]]]]:
    config = config_module.current()
    store = current_app.extensions["keywords"]
    return [
        (
            "settings",
            lambda: settings.check(
                config, store.get() and store.error, store.describe().removeprefix("keywords: ")
            ),
        ),
        ("database", services.database),
        ("redis", services.redis_and_workers),
        ("outbox", services.outbox),
        ("twilio", lambda: twilio.check(twilio_client.client(), config, store.get())),
        ("jira", lambda: jira.check(config)),
    ]


def run() -> list[Check]:
    results: list[Check] = []
    for name, section in sections():
        try:
            results += section()
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            results.append(
                fail(name, f"the check itself failed ({exc.__class__.__name__}: {exc})", "report this")
            )
    return results


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check settings, services, the Twilio number/Messaging Service/A2P setup and Jira."""
    results = run()
    for result in results:
        click.echo(result.line())
    failed = sum(r.status == FAIL for r in results)
    click.echo(f"{len(results)} checks, {failed} failed" + ("" if failed else ": ready"))
    sys.exit(1 if failed else 0)


def init_app(app: Flask) -> None:
    app.cli.add_command(doctor_command)
