"""The RQ worker's own /metrics on METRICS_PORT: one exporter per worker process.

Why not the gunicorn multiprocess directory: workers may run on hosts without a web
process, and a worker that is down should show as a missing target, not as numbers
frozen in a shared directory. The worker runs jobs in its own process (no fork per
job), so its default registry holds everything its jobs count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from supportbot.metrics import bearer_ok

log = logging.getLogger(__name__)


def metrics_app(token: str | None) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering GET /metrics with this process's values, behind the bearer token."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only GET /metrics here\n"]
        if not bearer_ok(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", 'Bearer realm="metrics"')],
            )
            return [b"a valid bearer token is required\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest(REGISTRY)]

    return app


class QuietHandler(WSGIRequestHandler):
    """No access-log line per scrape (one every 15 s would drown the worker's own lines)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def serve(host: str, port: int, token: str | None) -> BaseWSGIServer:
    """Serve the exporter from a daemon thread; it ends with the worker process."""
    server = make_server(host, port, metrics_app(token), threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    log.info("worker metrics on http://%s:%d/metrics", host, server.server_port)
    return server
