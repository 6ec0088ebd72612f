"""Tickets kept in our own database only: the help desk when JIRA_URL is unset.

Its notes are the `notes` rows the ticket jobs write; agents reply from the admin console.
"""

from __future__ import annotations

from supportbot.tickets.desk import Created, NewIssue


class LocalBackend:
    search_lag = 0.0

    def create(self, issue: NewIssue) -> Created:
        return Created(key=None, status="Open")

    def find(self, label: str) -> Created | None:
        return None  # creating is local and instant: there is never an earlier issue to find

    def comment(self, key: str | None, body: str, dedupe: str, look_first: bool) -> str | None:
        return None  # the note row the job writes is the whole record

    def transition(self, key: str | None, name: str) -> str | None:
        return name

    def own_ids(self) -> set[str]:
        return set()  # local tickets have no help-desk comments to echo

    def mark_delivered(self, key: str | None, comment_id: str, info: dict[str, object]) -> None:
        return None  # the message row's status is the local record

    def groups_of(self, user: str) -> frozenset[str]:
        return frozenset()  # no help-desk users: agents reply from the admin console
