"""The admin console under /admin: keyword versions, conversations, tickets, consent, audit."""

from __future__ import annotations

from flask import Flask

from supportbot.admin import (
    accounts,
    auth,
    commands,
    conversations,
    keywords,
    records,
    tickets,
)
from supportbot.admin.blueprint import bp
from supportbot.extensions import csrf, limiter, login_manager

__all__ = ["auth", "conversations", "keywords", "records", "tickets"]  # imported for their routes


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.user_loader(accounts.load)
    app.register_blueprint(bp)
    app.cli.add_command(commands.admin_cli)
