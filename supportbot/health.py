"""Health, readiness and metrics for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app

from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Ticket

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """200 while the process serves."""
    return Response("ok\n", content_type="text/plain")


def readiness_problems() -> list[str]:
    problems = []
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        problems.append(f"database: {exc.__class__.__name__}")
    finally:
        db.session.rollback()
    if current_app.config["REDIS_URL"]:
        try:
            queues.redis().ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"redis: {exc.__class__.__name__}")
    store = current_app.extensions["keywords"]
    store.get()
    if store.error:
        problems.append(f"keywords refused: {store.error}")
    return problems


def configuration_errors() -> list[str]:
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
    return [f"configuration error (SB-{i}): {e.split('configuration: ', 1)[1][:300]}" for i, e in rows]


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database, Redis and the keyword config are good; 503 naming what is not.

    Help-desk configuration errors are shown but do not make the process unready:
    texts are still stored and answered, and taking the web out of rotation would
    lose them.
    """
    problems = readiness_problems()
    if problems:
        return Response("\n".join(problems) + "\n", status=503, content_type="text/plain")
    lines = ["ready", current_app.extensions["keywords"].describe(), *configuration_errors()]
    return Response("\n".join(lines) + "\n", content_type="text/plain")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
