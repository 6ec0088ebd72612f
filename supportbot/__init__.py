"""supportbot: a two-way SMS support desk on Twilio and Jira."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from supportbot import (
    admin,
    cli,
    config,
    doctor,
    health,
    http_errors,
    logs,
    request_id,
    sandbox,
    twilio_client,
)
from supportbot.consent import ledger
from supportbot.extensions import db, migrate
from supportbot.inbound import deferred
from supportbot.inbound import views as inbound_views
from supportbot.jobs import queues, worker
from supportbot.keywords.store import KeywordStore
from supportbot.operations import web as operations_web
from supportbot.outbound import pipeline, reply_jobs, status_views
from supportbot.tickets import backends, ticket_jobs
from supportbot.tickets import webhook as jira_webhook

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# the modules that declare job kinds (@job): importing them here registers every kind
# in every process, web and worker alike
JOB_MODULES = (reply_jobs, ticket_jobs, deferred)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, or from test_config alone (tests never touch os.environ)."""
    app = Flask(__name__, instance_relative_config=True)
    if test_config is None:
        config.read_dotenv(".env")
    settings = config.load(test_config)
    app.extensions["settings"] = settings
    app.config.from_mapping(config.flask_config(settings))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    logs.configure(settings.log_format)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    # the clients, built once and reached through the app
    app.extensions["keywords"] = KeywordStore(settings.keywords_file, settings.keywords_poll_seconds)
    queues.init_app(app)
    pipeline.init_app(app)
    twilio_client.init_app(app)
    backends.init_app(app)
    ledger.init_app(app)

    operations_web.init_app(app)  # first: its timer starts before any other hook runs
    request_id.init_app(app)
    http_errors.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    doctor.init_app(app)
    worker.init_app(app)
    app.register_blueprint(inbound_views.bp)
    app.register_blueprint(jira_webhook.bp)
    app.register_blueprint(status_views.bp)
    admin.init_app(app)
    sandbox.init_app(app)
    return app
