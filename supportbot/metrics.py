"""Every Prometheus metric supportbot exports, and the small calls the edges make into them.

A foundation module: it imports prometheus_client and nothing of supportbot, so any
module may call it. Labels carry only bounded values (routes, kinds, outcomes, known
error codes): never a number, a body, a sid or an id.

Under gunicorn the values live in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it),
so any worker's /metrics answers for all of them; an RQ worker serves its own values
on METRICS_PORT (see supportbot/jobs/exporter.py and docs/metrics.md).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

PREFIX = "supportbot"

# webhooks answer in milliseconds; Twilio gives up at 15 s
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# jobs and remote calls run up to JOB_TIMEOUT (40 s)
CALL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)

INBOUND = Counter(
    f"{PREFIX}_inbound_messages", "Inbound texts by keyword route and action", ["route", "action"]
)
HTTP_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time to answer a request, by endpoint (the route's rule)",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
)
HTTP_RESPONSES = Counter(
    f"{PREFIX}_http_responses", "Answers by endpoint and status code", ["endpoint", "code"]
)
OUTBOUND = Counter(
    f"{PREFIX}_outbound_messages",
    "Outbound SMS by final status (delivered, undelivered, failed, blocked, unknown) and error code",
    ["status", "error_code"],
)
MAY_HAVE_BEEN_SENT = Counter(
    f"{PREFIX}_outbound_may_have_been_sent", "Sends whose outcome is unknown: never resent"
)
TWILIO_CALLS = Counter(
    f"{PREFIX}_twilio_send_requests", "Send requests to Twilio's Messages API by outcome", ["outcome"]
)
TWILIO_DURATION = Histogram(
    f"{PREFIX}_twilio_send_duration_seconds", "Time of a send request to Twilio", buckets=CALL_BUCKETS
)
RATE_WAITS = Counter(f"{PREFIX}_rate_limit_waits", "Sends that waited for the per-sender rate limit")
RATE_WAIT_SECONDS = Counter(f"{PREFIX}_rate_limit_wait_seconds", "Seconds spent waiting for the rate limit")
RATE_DEFERRED = Counter(
    f"{PREFIX}_rate_limit_deferrals", "Sends put back on the queue: no rate-limit slot soon enough"
)
JOBS = Counter(
    f"{PREFIX}_jobs", "Outbox jobs by kind and outcome (done, retry, failed, skipped)", ["kind", "outcome"]
)
JOB_DURATION = Histogram(
    f"{PREFIX}_job_duration_seconds", "Time an outbox job ran, by kind", ["kind"], buckets=CALL_BUCKETS
)
JIRA_CALLS = Counter(
    f"{PREFIX}_jira_calls", "Jira REST calls by operation and outcome", ["operation", "outcome"]
)
JIRA_DURATION = Histogram(
    f"{PREFIX}_jira_call_duration_seconds", "Time of a Jira REST call", ["operation"], buckets=CALL_BUCKETS
)
CONSENT = Counter(
    f"{PREFIX}_consent_events", "Consent ledger appends by event and source", ["event", "source"]
)

# label values outside these sets are folded into "other": a forged or unexpected value
# must never add a time series
JOB_KINDS = frozenset(
    {"create_ticket", "comment", "ack", "ticket_note", "send_sms", "agent_reply", "delivery_receipt"}
)
ACTIONS = frozenset(
    {"opt_out", "opt_in", "help", "reply", "ticket", "ticket_status", "ack", "duplicate", "deferred"}
)
STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "blocked", "unknown"})
CONSENT_EVENTS = frozenset({"opt_out", "opt_in"})
CONSENT_SOURCES = frozenset({"keyword", "twilio", "carrier", "admin", "import"})
MAX_ROUTE_LABEL = 32


def multiprocess_dir() -> str | None:
    """prometheus_client's own variable, read by the library itself at import; not a supportbot setting."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _bounded(value: str | None, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


def error_code_label(code: int | None, known: frozenset[int]) -> str:
    if not code:
        return "none"
    return str(code) if code in known else "other"


def inbound(route: str, action: str) -> None:
    # keyword names come from the published configuration, so they are bounded by it;
    # the length cap keeps an odd one from making a huge label
    INBOUND.labels(route=route[:MAX_ROUTE_LABEL], action=_bounded(action, ACTIONS)).inc()


def http_answered(endpoint: str, code: int, seconds: float) -> None:
    HTTP_DURATION.labels(endpoint=endpoint).observe(seconds)
    HTTP_RESPONSES.labels(endpoint=endpoint, code=str(code)).inc()


def outbound_final(status: str, error_code: str) -> None:
    OUTBOUND.labels(status=_bounded(status, STATUSES), error_code=error_code).inc()
    if status == "unknown":
        MAY_HAVE_BEEN_SENT.inc()


def twilio_send(outcome: str, seconds: float) -> None:
    TWILIO_CALLS.labels(outcome=outcome).inc()
    TWILIO_DURATION.observe(seconds)


def rate_limit_wait(seconds: float) -> None:
    RATE_WAITS.inc()
    RATE_WAIT_SECONDS.inc(seconds)


def rate_limit_deferred() -> None:
    RATE_DEFERRED.inc()


def job_ran(kind: str, outcome: str, seconds: float) -> None:
    label = _bounded(kind, JOB_KINDS)
    JOBS.labels(kind=label, outcome=outcome).inc()
    JOB_DURATION.labels(kind=label).observe(seconds)


@contextmanager
def jira_call(operation: str) -> Iterator[dict[str, str]]:
    """Time one Jira call; the caller sets result["outcome"] when it is not "ok"."""
    result = {"outcome": "ok"}
    start = time.perf_counter()
    try:
        yield result
    finally:
        JIRA_DURATION.labels(operation=operation).observe(time.perf_counter() - start)
        JIRA_CALLS.labels(operation=operation, outcome=result["outcome"]).inc()


def consent_event(event: str, source: str) -> None:
    CONSENT.labels(event=_bounded(event, CONSENT_EVENTS), source=_bounded(source, CONSENT_SOURCES)).inc()


def bearer_ok(header: str, token: str | None) -> bool:
    """True when no token is set, or the Authorization header carries it (constant-time compare)."""
    if not token:
        return True
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
