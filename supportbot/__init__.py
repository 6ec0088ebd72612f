"""supportbot: a two-way SMS support desk on Twilio and Jira."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from supportbot import config as settings
from supportbot.extensions import db, migrate
from supportbot.keywords.store import KeywordStore

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, or from test_config alone (tests never touch os.environ)."""
    app = Flask(__name__, instance_relative_config=True)
    if test_config is None:
        from dotenv import load_dotenv

        load_dotenv(".env", override=False)
    app.config.from_mapping(settings.load(test_config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from supportbot import logs

    logs.configure(app.config["LOG_FORMAT"])
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    app.extensions["keywords"] = KeywordStore(
        app.config["KEYWORDS_FILE"], app.config["KEYWORDS_POLL_SECONDS"]
    )

    from supportbot import cli, doctor, errors, health, jobs, sandbox
    from supportbot.inbound import views as inbound_views
    from supportbot.operations import request_id
    from supportbot.operations import web as operations_web
    from supportbot.outbound import status_views
    from supportbot.tickets import webhook as jira_webhook

    operations_web.init_app(app)  # first: its timer starts before any other hook runs
    request_id.init_app(app)
    errors.init_app(app)
    jobs.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    doctor.init_app(app)
    app.register_blueprint(inbound_views.bp)
    app.register_blueprint(jira_webhook.bp)
    app.register_blueprint(status_views.bp)
    sandbox.init_app(app)
    return app
