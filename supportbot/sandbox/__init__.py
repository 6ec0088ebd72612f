"""The Twilio stand-in, for development, tests and benchmarks (Jira's is in standins/)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from supportbot import config
from supportbot.sandbox import phone
from supportbot.sandbox.twilio import create_twilio_sandbox

MOUNT = "/sandbox/twilio"


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True)
@with_appcontext
def sandbox_command(host: str, port: int) -> None:
    """Run the Twilio stand-in alone (Messages API at its root)."""
    settings = config.current()
    app = create_twilio_sandbox(settings.twilio_account_sid or "", settings.twilio_auth_token or "")
    run_simple(host, port, app, threaded=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(sandbox_command)
    settings = app.extensions["settings"]
    if settings.development:
        app.register_blueprint(phone.bp)
    if settings.development and not settings.testing:
        twilio = create_twilio_sandbox(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            app_url=settings.public_base_url or config.DEV_BASE_URL,
        )
        app.extensions["twilio_sandbox_app"] = twilio  # the dev phone shows what it accepted
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {MOUNT: twilio})  # type: ignore[method-assign]
