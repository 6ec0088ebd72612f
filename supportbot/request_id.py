"""A request id for every request: the caller's X-Request-Id when it is safe, else a new one.

It is answered back in X-Request-Id, stamped on every log line of the request, and
carried in the meta of the jobs the request enqueues (and of their follow-ups).
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, has_request_context, request
from rq import get_current_job

HEADER = "X-Request-Id"
# what proxies and load balancers send (uuids, hex, Heroku's and AWS's ids); anything
# else could forge log lines or bloat every job, so it is replaced, not trusted
SAFE = re.compile(r"[A-Za-z0-9._:@=+/-]{1,128}")


def accept(given: str | None) -> str:
    """The caller's id when it is short and made of safe characters, else a new one."""
    if given and SAFE.fullmatch(given):
        return given
    return uuid.uuid4().hex


def current() -> str | None:
    """The id of the request being answered, or of the request that enqueued the running job."""
    if has_request_context():
        return g.get("request_id")
    try:
        job = get_current_job()
    except Exception:  # noqa: BLE001 - no Redis connection in this context: no job either
        return None
    return (job.meta or {}).get("request_id") if job is not None else None


def current_job_id() -> str | None:
    """The RQ job running in this thread, if any."""
    try:
        job = get_current_job()
    except Exception:  # noqa: BLE001 - no Redis connection in this context: no job either
        return None
    return job.id if job is not None else None


def _take() -> None:
    g.request_id = accept(request.headers.get(HEADER))


def _answer(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def init_app(app: Flask) -> None:
    app.before_request(_take)
    app.after_request(_answer)
