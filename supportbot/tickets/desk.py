"""What supportbot asks of a help desk, and what it gets back. Leaf: no database, no network."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
    """A help desk. It speaks to the help desk and returns values; the ticket jobs own
    the database writes and the transaction."""

    # seconds a new issue may take to show in search (Jira Cloud's index lags)
    search_lag: float

    def create(self, issue: NewIssue) -> Created:
        """Create the issue (with its attachments)."""

    def find(self, label: str) -> Created | None:
        """The issue carrying this label, if an earlier attempt made one."""

    def comment(self, key: str | None, body: str, dedupe: str, look_first: bool) -> str | None:
        """Post an internal comment tagged with `dedupe`; with look_first, return the one an
        earlier attempt posted instead of posting again. The help desk's comment id."""

    def transition(self, key: str | None, name: str) -> str | None:
        """Apply a workflow transition by name; the new status, or None if not allowed."""

    def own_ids(self) -> set[str]:
        """The identifiers of the help-desk user supportbot writes as (to ignore its comments)."""

    def mark_delivered(self, key: str | None, comment_id: str, info: dict[str, object]) -> None:
        """Show on the agent's comment that it reached the customer."""

    def groups_of(self, user: str) -> frozenset[str]:
        """The help-desk groups a user belongs to; raises when the help desk cannot say."""
