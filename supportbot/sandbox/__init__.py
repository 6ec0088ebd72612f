"""Stand-ins for Twilio and Jira: for development, tests and benchmarks."""

from __future__ import annotations

import click
from flask import Flask, Response, current_app
from flask.cli import with_appcontext
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from supportbot.config import DEV_BASE_URL

MOUNT = "/sandbox/twilio"


def unknown_controls(data: dict, known: tuple[str, ...]) -> Response | None:
    """A 400 naming any knob the stand-in does not have: a typo must not pass silently."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        return Response(f"unknown control {', '.join(unknown)}\n", status=400, mimetype="text/plain")
    return None


def apply_controls(target: object, data: dict, names: tuple[str, ...]) -> None:
    """POST /_control of either stand-in: set the named knobs present in the request."""
    for name in names:
        if name in data:
            setattr(target, name, data[name])


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True)
@with_appcontext
def sandbox_command(host: str, port: int) -> None:
    """Run the Twilio stand-in alone (Messages API at its root)."""
    from werkzeug.serving import run_simple

    from supportbot.sandbox.twilio import create_twilio_sandbox

    app = create_twilio_sandbox(
        current_app.config["TWILIO_ACCOUNT_SID"], current_app.config["TWILIO_AUTH_TOKEN"]
    )
    run_simple(host, port, app, threaded=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(sandbox_command)
    if app.config["SUPPORTBOT_ENV"] == "development" and not app.config["TESTING"]:
        from supportbot.sandbox.twilio import create_twilio_sandbox

        twilio = create_twilio_sandbox(
            app.config["TWILIO_ACCOUNT_SID"],
            app.config["TWILIO_AUTH_TOKEN"],
            app_url=app.config["PUBLIC_BASE_URL"] or DEV_BASE_URL,
        )
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {MOUNT: twilio})  # type: ignore[method-assign]
