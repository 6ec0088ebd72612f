"""`flask --app wsgi worker`: an RQ worker with the scheduler, inside the app context."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import SimpleWorker
from rq.job import Job

from supportbot import config
from supportbot.jobs import exporter, queues, relay, wakeup

log = logging.getLogger(__name__)

# RQ's defaults notice a dead worker's job after 10+ minutes; ours in under two: a
# running job's registry entry expires JOB_TIMEOUT_SECONDS + JOB_ABANDON_GRACE_SECONDS
# after it started (see get_heartbeat_ttl), and the next maintenance pass, every
# WORKER_MAINTENANCE_SECONDS, retries it: 40 + 60 + 15 = 115 s by default. The retry
# waits for a scheduler: a dead worker's scheduler lock stays RQ's fixed 61 s
WORKER_TTL = 35


class SupportbotWorker(SimpleWorker):
    """An RQ worker that runs jobs in its own process, plus the outbox relay while idle.

    Why not RQ's forking Worker: a fork per job costs a new Postgres connection, a
    new HTTP connection to Jira and Twilio, and the fork itself, about 45 ms of CPU
    per job, which kept 4 workers from scaling on 2 cores (bench/tickets.py). The
    price: a job that crashes the interpreter takes the worker down with it; the
    process manager restarts the worker and RQ retries the job as abandoned.
    SIGTERM is RQ's warm shutdown: the current job finishes, then the worker exits.
    """

    relay_every = 2.0
    _relayed_at = 0.0
    abandon_grace = 60

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        # RQ's SimpleWorker keeps a job in the started registry for its timeout + a fixed
        # 60 s; the grace is our setting so that tests and operators can shorten it
        if job.timeout is None or job.timeout < 0:
            return super().get_heartbeat_ttl(job, working_time)
        return int(job.timeout) + self.abandon_grace

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
    worker = SupportbotWorker(
        [queues.queue(name) for name in queues.QUEUES],
        connection=queues.redis(),
        maintenance_interval=config.current().worker_maintenance_seconds,
        worker_ttl=WORKER_TTL,
    )
    worker.abandon_grace = config.current().job_abandon_grace_seconds
    return worker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with the scheduler) for every supportbot queue."""
    if not config.current().redis_url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in the web process")
    settings = config.current()
    if settings.metrics_port:
        exporter.serve(
            settings.metrics_host,
            settings.metrics_port,
            settings.metrics_token,
        )
    w = build_worker()
    # deferred texts announce themselves on Postgres; this process enqueues them at once
    listening = wakeup.start(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        w.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        if listening is not None:
            listening.set()


def init_app(app: Flask) -> None:
    app.cli.add_command(worker_command)
