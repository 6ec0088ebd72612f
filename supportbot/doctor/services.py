"""Doctor: Postgres (reachable, migrations at head), Redis, live workers, a draining outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from rq import Worker

from supportbot import config as config_module
from supportbot.doctor.report import Check, fail, ok, warn
from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Outbox, as_utc

# the relay re-enqueues after OUTBOX_RELAY_AFTER_SECONDS; a row this old is stuck
STUCK_SECONDS = 60


def database() -> list[Check]:
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except sa.exc.SQLAlchemyError as exc:
        return [
            fail(
                "database",
                f"does not answer ({exc.__class__.__name__})",
                "check DATABASE_URL and that Postgres accepts connections from this host",
            )
        ]
    heads = set(ScriptDirectory(current_app.extensions["migrate"].directory).get_heads())
    reached = ok("database", f"{db.engine.dialect.name} answers")
    if current != heads:
        at = ", ".join(sorted(current)) or "an empty database"
        return [
            reached,
            fail(
                "migrations",
                f"at {at}, head is {', '.join(sorted(heads))}",
                "run `flask --app wsgi db upgrade`",
            ),
        ]
    return [reached, ok("migrations", f"at head {', '.join(sorted(heads))}")]


def redis_and_workers() -> list[Check]:
    if not config_module.current().redis_url:
        if config_module.current().env == "development":
            return [ok("redis", "unset: development runs jobs in the web process")]
        return [fail("redis", "REDIS_URL is unset", "set REDIS_URL; production runs jobs in RQ workers")]
    try:
        conn = queues.redis()
        conn.ping()
        workers = Worker.all(connection=conn)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return [
            fail(
                "redis", f"does not answer ({exc.__class__.__name__})", "check REDIS_URL and that Redis runs"
            )
        ]
    out = [ok("redis", "answers")]
    if not workers:
        out.append(
            fail(
                "workers",
                "no RQ worker is alive: texts are stored but tickets and replies wait",
                "start `flask --app wsgi worker` (the Procfile's worker)",
            )
        )
        return out
    served = {name for w in workers for name in w.queue_names()}
    missing = [q for q in queues.QUEUES if q not in served]
    if missing:
        out.append(
            warn(
                "workers",
                f"{len(workers)} alive, none listens to {', '.join(missing)}",
                "run `flask --app wsgi worker`, which listens to every supportbot queue",
            )
        )
    else:
        out.append(ok("workers", f"{len(workers)} alive"))
    return out


def outbox() -> list[Check]:
    now = datetime.now(UTC)
    try:
        count, first = db.session.execute(
            sa.select(sa.func.count(), sa.func.min(Outbox.created_at)).where(Outbox.state == "pending")
        ).one()
        failed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Outbox)
            .where(Outbox.state == "failed", Outbox.created_at > now - timedelta(days=1))
        )
    except sa.exc.SQLAlchemyError:
        return []  # the database check has said why
    finally:
        db.session.rollback()
    out = []
    age = (now - as_utc(first)).total_seconds() if first is not None else 0.0
    if age > STUCK_SECONDS:
        out.append(
            fail(
                "outbox",
                f"{count} pending, the oldest {age:.0f}s old: work is not draining",
                "check that workers run and reach Redis, Jira and Twilio (their logs say which fails)",
            )
        )
    else:
        out.append(ok("outbox", f"{count} pending" + (f", the oldest {age:.0f}s old" if count else "")))
    if failed:
        out.append(
            warn(
                "outbox failures",
                f"{failed} jobs failed for good in the last day",
                "see `flask --app wsgi tickets failed` and the tickets' notes",
            )
        )
    return out
