"""Health, readiness and metrics for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app

from supportbot import config
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Ticket

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the process serves."""
    return Response("ok\n", content_type="text/plain")


def readiness_problems() -> list[tuple[str, str]]:
    """(component, detail) for each dependency that does not answer."""
    problems = []
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        problems.append(("database", exc.__class__.__name__))
    finally:
        db.session.rollback()
    if config.current().redis_url:
        try:
            queues.redis().ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(("redis", exc.__class__.__name__))
    store = current_app.extensions["keywords"]
    store.get()
    if store.error:
        problems.append(("keywords", f"refused: {store.error}"))
    return problems


def configuration_errors() -> list[tuple[str, str]]:
    """Help-desk errors that retrying cannot fix, seen in the last hour (newest first)."""
    since = datetime.now(UTC) - timedelta(hours=1)
    rows = db.session.execute(
        sa.select(Ticket.id, Ticket.create_error)
        .where(Ticket.create_state == "failed", Ticket.create_error.like("%configuration: %"))
        .where(Ticket.updated_at > since)
        .order_by(Ticket.updated_at.desc())
        .limit(1)
    ).all()
    db.session.rollback()
    return [
        (f"help desk configuration (SB-{i})", (e or "").split("configuration: ", 1)[-1][:300])
        for i, e in rows
    ]


def _report(found: list[tuple[str, str]]) -> None:
    """Details go to the log (once per change), never to the public answer."""
    seen = current_app.extensions.get("readiness_reported")
    if found != seen:
        current_app.extensions["readiness_reported"] = found
        for component, detail in found:
            log.warning("readyz: %s: %s", component, detail)


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database, Redis and the keyword configuration are good; 503 naming what is not.

    The answer names components only: paths, parse errors and the help desk's own
    words are logged and shown to signed-in admins, not to whoever asks. Help-desk
    configuration errors do not make the process unready: texts are still stored
    and answered, and taking the web out of rotation would lose them.
    """
    problems = readiness_problems()
    _report(problems + configuration_errors() if not problems else problems)
    if problems:
        lines = [f"{component}: not ready (see the logs)" for component, _ in problems]
        return Response("\n".join(lines) + "\n", status=503, content_type="text/plain")
    lines = [
        "ready",
        current_app.extensions["keywords"].describe(),
        *(f"{component}: failing (see the logs)" for component, _ in configuration_errors()),
    ]
    return Response("\n".join(lines) + "\n", content_type="text/plain")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
