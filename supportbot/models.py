"""Database tables. Jobs receive these rows' ids, never the objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from supportbot.extensions import db

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds db.Model at run time from extensions.Base; the checker sees Base
    from supportbot.extensions import Base as Model
else:
    Model = db.Model


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Contact(Model):
    """One phone number that has texted us or that we text."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(64), unique=True)
    opted_out: Mapped[bool] = mapped_column(default=False)
    consent_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class Ticket(Model):
    """A conversation with a contact; the Jira issue once the worker has made it."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(64), default="Open")
    closed: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(sa.String(255), default="")
    jira_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # pending -> created, or failed with the reason kept for operators
    create_state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    create_error: Mapped[str | None] = mapped_column(sa.Text)
    # when a create request last went to the help desk (its search may lag behind it)
    create_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Jira's timestamp (ms) of the event that set status: older events never undo newer ones
    status_at: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    acked_by: Mapped[str | None] = mapped_column(sa.String(64))
    acked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def ref(self) -> str:
        return f"SB-{self.id}"


class Message(Model):
    """Every SMS/MMS in either direction, with what we answered or how it was delivered."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(sa.String(8))  # "in" or "out"
    # Twilio's MessageSid; unique so that a retried webhook changes nothing
    sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # outbound only: one key per intended send (e.g. the Jira comment id)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    from_number: Mapped[str] = mapped_column(sa.String(64), default="")
    to_number: Mapped[str] = mapped_column(sa.String(64), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    media: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    num_segments: Mapped[int] = mapped_column(default=1)
    encoding: Mapped[str] = mapped_column(sa.String(8), default="GSM-7")
    route: Mapped[str | None] = mapped_column(sa.String(64))  # keyword action that answered
    # outbound: the Jira comment this SMS carries (for its delivery receipt), and which part
    comment_id: Mapped[str | None] = mapped_column(sa.String(64))
    part: Mapped[int] = mapped_column(default=1, server_default="1")
    parts: Mapped[int] = mapped_column(default=1, server_default="1")
    reply: Mapped[str | None] = mapped_column(sa.Text)  # the TwiML reply text, replayed on retries
    raw_form: Mapped[list[list[str]] | None] = mapped_column(sa.JSON)  # audit: pairs as received
    raw_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)  # audit: bytes as received
    status: Mapped[str | None] = mapped_column(sa.String(16))
    error_code: Mapped[int | None] = mapped_column()
    error_detail: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # a contact's thread, read newest first by keyset: inbound rows by contact, outbound by number
    __table_args__ = (
        sa.Index("ix_messages_contact_id_id", "contact_id", "id"),
        sa.Index("ix_messages_to_number_id", "to_number", "id"),
    )


class ConsentEvent(Model):
    """Append-only consent ledger; each row carries the hash of the one before it."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    # the row's position in the chain (1, 2, ...): what a checkpoint's rows=N names
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    phone: Mapped[str] = mapped_column(sa.String(64))
    event: Mapped[str] = mapped_column(sa.String(16))  # opt_out | opt_in
    source: Mapped[str] = mapped_column(sa.String(16))  # keyword | twilio | carrier
    keyword: Mapped[str | None] = mapped_column(sa.String(64))
    message_sid: Mapped[str | None] = mapped_column(sa.String(64))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    # the timestamp as hashed: text, so that no database rounding breaks the chain
    recorded_at: Mapped[str] = mapped_column(sa.String(40))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # the send-time consent check reads the newest event of one number
    __table_args__ = (sa.Index("ix_consent_events_phone_id", "phone", "id"),)


class Outbox(Model):
    """Work to do after commit. The record of work is here, not in Redis."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Note(Model):
    """A comment supportbot put on a ticket: the whole help desk for local tickets,
    and for Jira the record that a comment was posted (its dedupe key)."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a note on a Jira issue that is not (yet) a supportbot ticket
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    # the Jira comment id; every comment webhook looks it up (is the comment our own?)
    remote_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Model):
    """Webhooks already handled (Jira's are at-least-once): one row per delivery id."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16))
    delivery_id: Mapped[str] = mapped_column(sa.String(200))
    event: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    __table_args__ = (sa.UniqueConstraint("source", "delivery_id"),)


class StatusCallback(Model):
    """Every delivery receipt Twilio sends, kept as received (at-least-once, any order)."""

    __tablename__ = "status_callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(sa.String(64), index=True)
    status: Mapped[str] = mapped_column(sa.String(32))
    error_code: Mapped[int | None] = mapped_column()
    raw_dlr_done_date: Mapped[str | None] = mapped_column(sa.String(32))
    raw_form: Mapped[list[list[str]]] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class KeywordVersion(Model):
    """One saved keyword configuration; exactly one is published and in force everywhere."""

    __tablename__ = "keyword_versions"
    id: Mapped[int] = mapped_column(primary_key=True)  # the version number
    yaml: Mapped[str] = mapped_column(sa.Text)
    author: Mapped[str] = mapped_column(sa.String(255))
    comment: Mapped[str] = mapped_column(sa.String(500), default="")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("keyword_versions.id"))
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # at most one published row, enforced by the database; every process polls this index
    __table_args__ = (
        sa.Index(
            "uq_keyword_versions_published",
            "published",
            unique=True,
            postgresql_where=sa.text("published"),
            sqlite_where=sa.text("published"),
        ),
    )


class AdminUser(Model):
    """An account for the admin console: role admin changes things, viewer reads."""

    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16))  # admin | viewer
    # part of the session id: bumping it signs out every session of the account
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class AuditEntry(Model):
    """Append-only record of every admin action, like the consent ledger."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(255))  # account email, or "cli:<user>"
    action: Mapped[str] = mapped_column(sa.String(32))
    target: Mapped[str] = mapped_column(sa.String(255), default="")
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    address: Mapped[str | None] = mapped_column(sa.String(64))
