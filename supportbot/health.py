"""Health, readiness and metrics for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app

from supportbot.extensions import db
from supportbot.jobs import queues

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


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database, Redis and the keyword file are good; 503 naming what is not."""
    problems = readiness_problems()
    if problems:
        return Response("\n".join(problems) + "\n", status=503, content_type="text/plain")
    return Response("ready\n", content_type="text/plain")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
