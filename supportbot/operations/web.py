"""GET /metrics, and the timing of every request the app answers."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from supportbot import config as config_module
from supportbot import metrics
from supportbot.operations.state import StateCollector

bp = Blueprint("metrics", __name__)


def process_values() -> bytes:
    """This process's metrics, or every gunicorn worker's when PROMETHEUS_MULTIPROC_DIR is set."""
    path = metrics.multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    return generate_latest(registry)


@bp.get("/metrics")
def metrics_view() -> Response:
    """Prometheus text exposition: counters of every process, state gauges computed now."""
    if not metrics.bearer_ok(request.headers.get("Authorization", ""), config_module.current().metrics_token):
        return Response(
            "a valid bearer token is required\n",
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            content_type="text/plain",
        )
    state = CollectorRegistry()
    state.register(StateCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    body = process_values() + generate_latest(state)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        # the route's rule, never the path: a path may carry ids, and forged paths are unbounded
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.http_answered(endpoint, response.status_code, time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
