"""Keyword configuration versions in the database: seed, publish, roll back, compare.

Nothing reaches the published row without passing the validator, so the version
in force is always a good one.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from supportbot.db_dialect import advisory_xact_lock
from supportbot.extensions import db
from supportbot.keywords.schema import KeywordConfig, KeywordConfigError, parse
from supportbot.models import KeywordVersion

log = logging.getLogger(__name__)

# one lock for every publish, so that two publishes never both see the same base
PUBLISH_LOCK = "keyword_versions.publish"


class StaleBase(Exception):
    """The draft was based on a version that is no longer the published one."""

    def __init__(self, base_id: int | None, current: KeywordVersion, diff: str):
        super().__init__(f"the draft is based on version {base_id}; version {current.id} is published now")
        self.base_id = base_id
        self.current = current
        self.diff = diff


@dataclass(frozen=True)
class Published:
    id: int
    yaml: str


def published_id() -> int | None:
    """The published version's number: the cheap query every process polls."""
    return db.session.scalar(sa.select(KeywordVersion.id).where(KeywordVersion.published.is_(True)))


def published() -> KeywordVersion | None:
    return db.session.scalars(sa.select(KeywordVersion).where(KeywordVersion.published.is_(True))).first()


def get(version_id: int) -> KeywordVersion | None:
    return db.session.get(KeywordVersion, version_id)


def history(limit: int = 50, before: int | None = None) -> list[KeywordVersion]:
    query = sa.select(KeywordVersion).order_by(KeywordVersion.id.desc()).limit(limit)
    if before is not None:
        query = query.where(KeywordVersion.id < before)
    return list(db.session.scalars(query))


def source_name(version_id: int | None) -> str:
    return f"version {version_id}" if version_id else "draft"


def validate(text: str, source: str = "draft") -> KeywordConfig:
    """The validator every publish goes through; raises KeywordConfigError."""
    return parse(text, source)


def diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name, n=2
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def publish(
    text: str, author: str, comment: str, base_id: int | None, check_base: bool = True
) -> KeywordVersion:
    """Validate and publish text as the next version, in its own transaction.

    With check_base, a draft based on a version that is no longer published is
    refused (StaleBase) with the change since that version.
    """
    validate(text, "draft")
    try:
        advisory_xact_lock(PUBLISH_LOCK)
        current = published()
        if check_base and current is not None and current.id != base_id:
            base = get(base_id) if base_id else None
            changed = diff(
                base.yaml if base else "", current.yaml, source_name(base_id), source_name(current.id)
            )
            raise StaleBase(base_id, current, changed)
        if current is not None:
            current.published = False
            db.session.flush()  # the unique index allows one published row at a time
        row = KeywordVersion(
            yaml=text,
            author=author[:255],
            comment=comment.strip()[:500],
            parent_id=current.id if current else None,
            published=True,
        )
        db.session.add(row)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    log.info("keywords version %d published by %s", row.id, author)
    return row


def seed_from_file(path: str, session: Session) -> int | None:
    """On an empty table, import the file as version 1 and return 1; None when it has versions.

    Runs in a session of its own (the caller's request may be mid-transaction).
    Raises KeywordConfigError when the file is refused (nothing is written).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeywordConfigError([f"{path}:1: cannot read the file ({exc.__class__.__name__})"]) from None
    parse(text, path)
    with session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": PUBLISH_LOCK})
        if session.scalar(sa.select(KeywordVersion.id).limit(1)) is not None:
            return None  # another process seeded first
        row = KeywordVersion(
            yaml=text, author="seed", comment=f"imported from {path}", parent_id=None, published=True
        )
        session.add(row)
        session.flush()
        version_id = row.id
    log.info("keywords seeded from %s as version %d", path, version_id)
    return version_id


__all__ = ["KeywordConfigError", "StaleBase", "publish", "published", "seed_from_file"]
