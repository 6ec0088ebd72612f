"""What a job raises, and what the runner makes of it. Leaf: imports nothing of ours but phone."""

from __future__ import annotations

from supportbot.phone import mask_numbers


class PermanentError(Exception):
    """Retrying cannot fix this (bad configuration, a final Twilio error, a row that is gone): fail now.

    `refused` says the far side answered and did nothing, so nothing needs undoing.
    """

    def __init__(self, reason: str, refused: bool = False):
        super().__init__(reason)
        self.refused = refused


class RetryLater(Exception):
    """Worth retrying; when the far side said how long to wait (Retry-After), wait at least that."""

    def __init__(self, reason: str, seconds: int | None = None, refused: bool = False):
        super().__init__(reason)
        self.seconds = seconds
        self.refused = refused


class JobFailed(Exception):
    """What a failed job raises to RQ: the reason alone, masked, with no chained cause.

    RQ keeps the traceback of what a job raises in Redis; the original exception's
    text may quote a number (a Twilio error) and stays in our own log instead. It
    carries the rows the failure handler wrote, for the caller to dispatch.
    """

    def __init__(self, reason: str, follow_ups: list[tuple[int, str]] | None = None):
        super().__init__(reason)
        self.follow_ups = follow_ups or []


def describe(exc: BaseException) -> str:
    """A failure as stored (outbox.last_error) and shown: its kind and text, numbers masked."""
    return mask_numbers(f"{exc.__class__.__name__}: {exc}")[:2000]
