"""Postgres LISTEN/NOTIFY in place of an RQ enqueue in the request.

A deferred text's outbox row names itself on the channel in the statement that
stores it; Postgres delivers the notification at commit. Each worker listens and
enqueues the row (RQ refuses a second job of the same id, so two listeners are
harmless). A notification nobody heard (no worker running) changes nothing: the row
stays pending and the relay enqueues it after OUTBOX_RELAY_AFTER_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import sqlalchemy as sa
from flask import Flask

from supportbot.jobs import queues
from supportbot.jobs.outbox import CHANNEL

log = logging.getLogger(__name__)


def _libpq_url(database_url: str) -> str:
    return sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def listen(app: Flask, stop: threading.Event) -> None:
    """Enqueue every notified outbox row until `stop` is set; reconnect after a failure."""
    url = _libpq_url(app.extensions["settings"].database_url)
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn, app.app_context():
                conn.execute(f"LISTEN {CHANNEL}")
                while not stop.is_set():
                    for note in conn.notifies(timeout=1.0):
                        outbox_id, kind, rid = (note.payload.split(":", 2) + [""])[:3]
                        queues.enqueue_outbox(int(outbox_id), kind, rid or None)
        except Exception as exc:  # noqa: BLE001 - the relay covers anything missed meanwhile
            log.warning("outbox listener failed (%s); listening again in 1 s", exc.__class__.__name__)
            time.sleep(1.0)


def start(app: Flask) -> threading.Event | None:
    """A daemon thread that listens, on Postgres only; set the returned event to stop it."""
    if app.extensions["settings"].database_url.split(":", 1)[0] not in ("postgresql+psycopg", "postgresql"):
        return None
    stop = threading.Event()
    threading.Thread(target=listen, args=(app, stop), name="outbox-listener", daemon=True).start()
    return stop
