"""The delivery state machine: a message's status only moves forward. Pure."""

from __future__ import annotations

# Twilio's statuses in the order a message passes them; undelivered, failed and
# canceled are final and a late "sent" never undoes them
RANK = {
    "pending": 0,  # ours: written, not yet handed to Twilio
    "sending_api": 1,  # ours: the send request is under way
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "delivered": 6,
    "read": 7,
}
FINAL = frozenset({"undelivered", "failed", "canceled", "blocked", "unknown"})
FAILED = frozenset({"undelivered", "failed"})


def advance(current: str | None, reported: str) -> str:
    """The status after a callback reporting `reported` arrives, in any order."""
    if current in FINAL:
        return current
    if reported in FINAL:
        return reported
    if reported not in RANK:
        return current or reported
    if current is None or RANK.get(current, -1) < RANK[reported]:
        return reported
    return current
