"""The small interface every ticket backend speaks, and the local one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from supportbot.extensions import db
from supportbot.models import Note


@dataclass(frozen=True)
class NewIssue:
    ticket_id: int
    ref: str
    summary: str
    description: str
    labels: tuple[str, ...]
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)


@dataclass(frozen=True)
class Created:
    key: str | None  # the help desk's key; None when the ticket lives only here
    status: str


class Backend(Protocol):
    def create(self, issue: NewIssue) -> Created:
        """Create the issue, or return the one an earlier attempt created."""

    def comment(self, ticket_id: int | None, key: str | None, body: str, dedupe: str) -> None:
        """Add a comment once per dedupe key."""

    def transition(self, key: str | None, name: str) -> str | None:
        """Apply a workflow transition by name; the new status, or None if not allowed."""

    def own_ids(self) -> set[str]:
        """The identifiers of the help-desk user supportbot writes as (to ignore its comments)."""

    def mark_delivered(self, key: str | None, comment_id: str, info: dict) -> None:
        """Show on the agent's comment that it reached the customer."""

    def groups_of(self, user: str) -> frozenset[str]:
        """The help-desk groups a user belongs to; raises when the help desk cannot say."""


class LocalBackend:
    """Tickets kept in our own database: the default when JIRA_URL is unset."""

    def create(self, issue: NewIssue) -> Created:
        return Created(key=None, status="Open")

    def comment(self, ticket_id: int | None, key: str | None, body: str, dedupe: str) -> None:
        exists = db.session.scalar(sa.select(Note.id).where(Note.dedupe_key == dedupe))
        if exists is None:
            db.session.add(Note(ticket_id=ticket_id, body=body, dedupe_key=dedupe))

    def transition(self, key: str | None, name: str) -> str | None:
        return name

    def own_ids(self) -> set[str]:
        return set()  # local tickets have no help-desk comments to echo

    def mark_delivered(self, key: str | None, comment_id: str, info: dict) -> None:
        return None  # the message row's status is the local record

    def groups_of(self, user: str) -> frozenset[str]:
        return frozenset()  # no help-desk users: agents reply from the admin console


def backend() -> Backend:
    """The configured backend, one per process: its HTTP connections are kept alive."""
    cached = current_app.extensions.get("ticket_backend")
    if cached is None:
        if current_app.config["TICKET_BACKEND"] == "jira":
            from supportbot.tickets.jira_backend import JiraBackend

            cached = JiraBackend.from_config(current_app.config)
        else:
            cached = LocalBackend()
        current_app.extensions["ticket_backend"] = cached
    return cached
