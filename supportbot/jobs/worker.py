"""`flask --app wsgi worker`: an RQ worker with the scheduler, inside the app context."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker

from supportbot.jobs import queues, relay

log = logging.getLogger(__name__)

# RQ's defaults notice a dead worker's job after 10+ minutes; these make it under two:
# a work horse heartbeats every JOB_MONITORING s and its job expires 60 s after the
# last beat (RQ's fixed grace), then the next maintenance pass retries it
# (WORKER_MAINTENANCE_SECONDS, 30 by default)
JOB_MONITORING = 5
WORKER_TTL = 35


class SupportbotWorker(Worker):
    """RQ's forking worker, which also runs the outbox relay while it waits for jobs.

    SIGTERM is RQ's warm shutdown: the current job finishes, then the worker exits;
    a second SIGTERM (or SIGINT) kills the job, which RQ's retry then runs again.
    """

    relay_every = 2.0
    _relayed_at = 0.0

    @property
    def dequeue_timeout(self) -> int:
        # wake up often enough to relay; RQ's own loop heartbeats on every wake-up
        return max(1, int(self.relay_every))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or self._relay_due()

    def _relay_due(self) -> bool:
        return time.monotonic() - self._relayed_at >= self.relay_every

    def run_maintenance_tasks(self) -> None:
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()
        if self._relay_due():
            self._relayed_at = time.monotonic()
            try:
                relay.relay_pending()
            except Exception:  # the relay must never stop the worker; it runs again soon
                log.exception("outbox relay pass failed")


def build_worker() -> SupportbotWorker:
    return SupportbotWorker(
        [queues.queue(name) for name in queues.QUEUES],
        connection=queues.redis(),
        maintenance_interval=current_app.config["WORKER_MAINTENANCE_SECONDS"],
        job_monitoring_interval=JOB_MONITORING,
        worker_ttl=WORKER_TTL,
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with the scheduler) for every supportbot queue."""
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in the web process")
    w = build_worker()
    w.work(burst=burst, with_scheduler=True, logging_level="INFO")


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
