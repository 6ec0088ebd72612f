"""Whether a new text joins the contact's newest ticket: the reopen-window rule. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta


def joins(closed: bool, closed_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """An open ticket always; a closed one while it was closed less than `window` ago."""
    if not closed:
        return True
    return closed_at is not None and closed_at > now - window
