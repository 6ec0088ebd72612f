"""The configured help desk, built once per process by the app factory."""

from __future__ import annotations

from flask import Flask, current_app

from supportbot.config import Settings
from supportbot.tickets.desk import Backend
from supportbot.tickets.jira_backend import JiraBackend
from supportbot.tickets.local_backend import LocalBackend


def build(settings: Settings) -> Backend:
    if settings.ticket_backend == "jira":
        return JiraBackend.from_settings(settings)
    return LocalBackend()


def init_app(app: Flask) -> None:
    # one per process: its HTTP connections are kept alive across jobs
    app.extensions["ticket_backend"] = build(app.extensions["settings"])


def backend() -> Backend:
    built: Backend = current_app.extensions["ticket_backend"]
    return built
