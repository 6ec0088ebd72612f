"""The keyword config in force in this process: the published version in the database.

Each process asks for the published version's number at most once per poll
interval, on the request path (one indexed query), and loads the text only when
the number changed; so every web and worker process switches within the interval
plus one request, without a restart or a watcher thread per gunicorn worker.
"""

from __future__ import annotations

import logging
import threading
import time
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.orm import Session

from supportbot.extensions import db
from supportbot.keywords import versions
from supportbot.keywords.schema import KeywordConfig, KeywordConfigError, parse
from supportbot.models import KeywordVersion

log = logging.getLogger(__name__)


def builtin_config() -> KeywordConfig:
    """The packaged default, in force when no good configuration was ever loaded."""
    text = resources.files("supportbot").joinpath("default_keywords.yaml").read_text("utf-8")
    return parse(text, "supportbot/default_keywords.yaml (built in)")


class KeywordStore:
    def __init__(self, seed_path: str, poll_seconds: float = 1.0):
        self.seed_path = seed_path
        self.poll_seconds = poll_seconds
        self.error: str | None = None  # why the published version is not in force
        self.version_id: int | None = None  # the version in force; None: the built-in default
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._config = builtin_config()

    def _poll(self) -> None:
        self._checked = time.monotonic()
        # a connection of its own: the caller's session may be inside a transaction
        try:
            with db.engine.connect() as conn:
                current = conn.scalar(sa.select(KeywordVersion.id).where(KeywordVersion.published.is_(True)))
                if current is None:
                    conn.rollback()
                    current = self._seed()
                    if current is None:
                        return
                if current == self.version_id:
                    return
                text = conn.scalar(sa.select(KeywordVersion.yaml).where(KeywordVersion.id == current))
        except sa.exc.SQLAlchemyError as exc:
            self.error = f"cannot read the published version ({exc.__class__.__name__})"
            log.error("keywords: %s; keeping what is in force", self.error)
            return
        self._install(current, text or "")

    def _seed(self) -> int | None:
        try:
            with Session(db.engine) as session:
                versions.seed_from_file(self.seed_path, session)
        except KeywordConfigError as exc:
            self.error = f"no published version, and KEYWORDS_FILE was refused: {exc}"
            log.error("keywords: %s", self.error)
            return None
        except sa.exc.IntegrityError:
            pass  # another process seeded at the same moment (SQLite has no advisory lock)
        with db.engine.connect() as conn:
            return conn.scalar(sa.select(KeywordVersion.id).where(KeywordVersion.published.is_(True)))

    def _install(self, version_id: int, text: str) -> None:
        try:
            config = parse(text, f"version {version_id}")
        except KeywordConfigError as exc:
            # published versions passed the validator; a newer code's stricter rule can still refuse one
            self.error = f"version {version_id} refused: {exc}"
            log.error("keywords: %s; keeping what is in force", self.error)
            return
        self._config, self.version_id, self.error = config, version_id, None
        log.info("keywords: version %d in force (%d keywords)", version_id, len(config.routes))

    def get(self) -> KeywordConfig:
        """The config in force, after a cheap check for a newly published version."""
        if time.monotonic() - self._checked >= self.poll_seconds:
            with self._lock:
                if time.monotonic() - self._checked >= self.poll_seconds:
                    self._poll()
        return self._config

    def describe(self) -> str:
        """One line for /readyz and the admin pages: where the config in force comes from."""
        if self.version_id is None:
            return "keywords: the built-in default (no published version in the database)"
        return f"keywords: version {self.version_id}, published in the database (the source of truth)"
