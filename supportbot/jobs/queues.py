"""The one module that enqueues: queues by purpose, job options bound in one place."""

from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app
from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError

from supportbot.operations import request_id

# queues named by purpose; the worker listens to all, most urgent first
OUTBOUND, TICKETS = "outbound", "tickets"
QUEUES = (OUTBOUND, TICKETS)
KIND_QUEUE = {
    "create_ticket": TICKETS,
    "comment": TICKETS,
    "ack": TICKETS,
    "ticket_note": TICKETS,
    "send_sms": OUTBOUND,
    "agent_reply": OUTBOUND,
    "delivery_receipt": TICKETS,
}
FAILURE_TTL = int(timedelta(days=30).total_seconds())
RESULT_TTL = 3600
# a job makes a few help-desk or Twilio calls of JIRA_TIMEOUT (10 s) at most; past
# this it is stopped and retried. It also bounds how long a killed worker's job
# waits before RQ retries it (see jobs/worker.py)
JOB_TIMEOUT = 40


def redis() -> Redis:
    conn = current_app.extensions.get("redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2)
        current_app.extensions["redis"] = conn
    return conn


def queue(name: str) -> Queue:
    cache = current_app.extensions.setdefault("rq_queues", {})
    if name not in cache:
        cache[name] = Queue(name, connection=redis())
    return cache[name]


def jittered(intervals: tuple[int, ...]) -> list[int]:
    # each job gets its own jitter so that a burst of failures does not come back as a burst
    return [max(1, round(i * random.uniform(0.8, 1.2))) for i in intervals]  # noqa: S311


def job_id(outbox_id: int) -> str:
    return f"outbox-{outbox_id}"


def _meta() -> dict[str, str]:
    # the request (or the job) that caused this work, for the job's log lines
    rid = request_id.current()
    return {"request_id": rid} if rid else {}


def enqueue_outbox(outbox_id: int, kind: str) -> bool:
    """Enqueue the job for one outbox row; False when that job id is already known to RQ."""
    from supportbot.jobs import tasks

    intervals = current_app.config["JOB_RETRY_INTERVALS"]
    try:
        queue(KIND_QUEUE.get(kind, TICKETS)).enqueue(
            tasks.run_outbox,
            outbox_id,
            job_id=job_id(outbox_id),
            unique=True,
            retry=Retry(max=len(intervals), interval=jittered(intervals)),
            failure_ttl=FAILURE_TTL,
            result_ttl=RESULT_TTL,
            job_timeout=JOB_TIMEOUT,
            on_failure=Callback(tasks.on_job_failure),
            description=f"{kind} outbox={outbox_id}",
            meta=_meta(),
        )
    except DuplicateJobError:
        return False
    return True
