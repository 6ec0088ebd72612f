"""The one module that enqueues: queues by purpose, job options bound in one place.

The Redis client and the queues are built once, by the app factory (init_app).
"""

from __future__ import annotations

import random
from datetime import timedelta

from flask import Flask, current_app
from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError

from supportbot import config, request_id
from supportbot.jobs.registry import QUEUES, queue_of

FAILURE_TTL = int(timedelta(days=30).total_seconds())
RESULT_TTL = 3600
# RQ resolves these by name in the worker; naming them keeps this module below the
# runner and dispatch, which enqueue through it
ENTRY = "supportbot.jobs.dispatch.run_outbox"
ON_FAILURE = "supportbot.jobs.dispatch.on_job_failure"

__all__ = ["QUEUES", "enqueue_outbox", "init_app", "job_id", "queue", "redis"]


def init_app(app: Flask) -> None:
    """Build this process's Redis client and queues, when Redis is configured."""
    settings = app.extensions["settings"]
    if not settings.redis_url:
        return
    conn = Redis.from_url(
        settings.redis_url, socket_timeout=settings.redis_timeout_seconds, socket_connect_timeout=2
    )
    app.extensions["redis"] = conn
    app.extensions["rq_queues"] = {name: Queue(name, connection=conn) for name in QUEUES}


def redis() -> Redis:
    conn: Redis | None = current_app.extensions.get("redis")
    if conn is None:
        raise RuntimeError("REDIS_URL is not set: there is no Redis in this process")
    return conn


def queue(name: str) -> Queue:
    found: Queue = current_app.extensions["rq_queues"][name]
    return found


def jittered(intervals: tuple[int, ...]) -> list[int]:
    # each job gets its own jitter so that a burst of failures does not come back as a burst
    return [max(1, round(i * random.uniform(0.8, 1.2))) for i in intervals]  # noqa: S311


def job_id(outbox_id: int) -> str:
    return f"outbox-{outbox_id}"


def _meta() -> dict[str, str]:
    # the request (or the job) that caused this work, for the job's log lines
    rid = request_id.current()
    return {"request_id": rid} if rid else {}


def enqueue_outbox(outbox_id: int, kind: str, rid: str | None = None) -> bool:
    """Enqueue the job for one outbox row; False when that job id is already known to RQ.

    rid: the id of the request that wrote the row, when it is not the one in context
    (a worker enqueuing a row a request announced by NOTIFY, jobs/wakeup.py).
    """
    settings = config.current()
    intervals = settings.job_retry_intervals
    try:
        queue(queue_of(kind)).enqueue(
            ENTRY,
            outbox_id,
            job_id=job_id(outbox_id),
            unique=True,
            retry=Retry(max=len(intervals), interval=jittered(intervals)),
            failure_ttl=FAILURE_TTL,
            result_ttl=RESULT_TTL,
            # also bounds how long a killed worker's job waits for its retry (jobs/worker.py)
            job_timeout=settings.job_timeout_seconds,
            on_failure=Callback(ON_FAILURE),
            description=f"{kind} outbox={outbox_id}",
            meta={"request_id": rid} if rid else _meta(),
        )
    except DuplicateJobError:
        return False
    return True
