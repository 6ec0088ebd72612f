"""Gauges that need a query, computed when Prometheus scrapes (no background thread).

Outbox backlog and age from Postgres, RQ queue depths and live workers from Redis,
and the keyword configuration in force in the answering process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask
from prometheus_client.core import GaugeMetricFamily, Metric
from rq import Worker
from rq.registry import FailedJobRegistry

from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.metrics import PREFIX
from supportbot.models import Outbox, as_utc


class StateCollector:
    """A prometheus_client collector; each scrape runs one SQL query and a few Redis calls."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{PREFIX}_state_up", "1 when the scrape could read this source", labels=["source"]
        )
        with self.app.app_context():
            ok, metrics = _outbox()
            up.add_metric(["database"], ok)
            yield from metrics
            if self.app.extensions["settings"].redis_url:
                ok, metrics = _redis()
                up.add_metric(["redis"], ok)
                yield from metrics
            yield from _keywords(self.app)
        yield up

    def describe(self) -> list[Metric]:
        return []  # nothing to check at registration: names are only known at scrape time


def _outbox() -> tuple[int, list[Metric]]:
    pending = GaugeMetricFamily(f"{PREFIX}_outbox_pending", "Outbox rows waiting to run")
    oldest = GaugeMetricFamily(
        f"{PREFIX}_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox row (0 when none)"
    )
    try:
        count, first = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(Outbox.created_at)).where(Outbox.state == "pending")
        ).one()
    except sa.exc.SQLAlchemyError:
        return 0, []
    finally:
        db.session.rollback()
    pending.add_metric([], count)
    age = (datetime.now(UTC) - as_utc(first)).total_seconds() if first is not None else 0.0
    oldest.add_metric([], max(age, 0.0))
    return 1, [pending, oldest]


def _redis() -> tuple[int, list[Metric]]:
    depth = GaugeMetricFamily(f"{PREFIX}_rq_queue_depth", "Jobs waiting in an RQ queue", labels=["queue"])
    failed = GaugeMetricFamily(
        f"{PREFIX}_rq_failed_jobs", "Jobs in an RQ queue's failed registry", labels=["queue"]
    )
    workers = GaugeMetricFamily(f"{PREFIX}_rq_workers", "RQ workers registered and alive (heartbeat)")
    try:
        conn = queues.redis()
        for name in queues.QUEUES:
            q = queues.queue(name)
            depth.add_metric([name], q.count)
            failed.add_metric([name], FailedJobRegistry(queue=q).count)
        # Worker.all, not Worker.count: a killed worker stays in RQ's set until a cleanup,
        # but its heartbeat key expires within WORKER_TTL, and all() skips it then
        workers.add_metric([], len(Worker.all(connection=conn)))
    except Exception:  # noqa: BLE001 - Redis down shows as state_up 0, not as a failed scrape
        return 0, []
    return 1, [depth, failed, workers]


def _keywords(app: Flask) -> list[Metric]:
    store = app.extensions["keywords"]
    store.get()
    version = GaugeMetricFamily(
        f"{PREFIX}_keywords_version",
        "Keyword configuration in force in the answering process (a fingerprint of the file; 0 built in)",
    )
    version.add_metric([], store.version_id or 0)
    refused = GaugeMetricFamily(
        f"{PREFIX}_keywords_refused", "1 when the keyword file on disk was refused and an older one serves"
    )
    refused.add_metric([], 1 if store.error else 0)
    return [version, refused]
