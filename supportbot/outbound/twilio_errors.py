"""Twilio error codes: what each means and what the pipeline does about it."""

from __future__ import annotations

from dataclasses import dataclass

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

RETRY, FINAL, OPTED_OUT, MAYBE_SENT = "retry", "final", "opted_out", "maybe_sent"


@dataclass(frozen=True)
class ErrorInfo:
    code: int
    meaning: str
    action: str


_TABLE = {
    # REST API answers to a send
    20429: ("Too many requests: Twilio's rate limit", RETRY),
    21211: ("The 'To' number is not a valid phone number", FINAL),
    21408: ("Sending to this region is not enabled on the account", FINAL),
    21606: ("The 'From' number cannot send SMS to this destination", FINAL),
    21610: ("The recipient replied STOP: Twilio blocks messages to them", OPTED_OUT),
    21611: ("The sender's queue is full; Twilio asks to try again later", RETRY),
    21612: ("Twilio cannot route to this number (not SMS-capable from this sender)", FINAL),
    21614: ("The 'To' number is not a mobile number", FINAL),
    21212: ("The 'From' number is not a valid phone number or short code", FINAL),
    # delivery receipts (ErrorCode on status callbacks)
    30001: ("Queue overflow: too many messages queued for this sender", FINAL),
    30002: ("The account is suspended", FINAL),
    30003: ("Unreachable destination handset (off, or out of coverage)", FINAL),
    30004: ("Message blocked by the recipient or their carrier", FINAL),
    30005: ("Unknown destination handset: the number does not exist", FINAL),
    30006: ("Landline or unreachable carrier", FINAL),
    30007: ("Filtered by the carrier as spam or policy violation", FINAL),
    30008: ("Unknown error from the carrier", FINAL),
    30034: ("Message from an unregistered 10DLC number", FINAL),
}

# codes we name in metrics labels; any other is counted as "other"
KNOWN_CODES = frozenset(_TABLE)


def lookup(code: int | None, http_status: int | None = None) -> ErrorInfo:
    if code in _TABLE:
        meaning, action = _TABLE[code]
        return ErrorInfo(code, meaning, action)
    if http_status == 429:
        return ErrorInfo(code or 0, "Twilio answered 429: too many requests", RETRY)
    if http_status is not None and http_status >= 500:
        # Twilio failed while handling the request: it may have queued the message first
        return ErrorInfo(code or 0, f"Twilio answered {http_status}", MAYBE_SENT)
    return ErrorInfo(code or 0, f"Twilio error {code or http_status}", FINAL)


def reached_nobody(exc: requests.RequestException) -> bool:
    """True only when a request provably never reached Twilio: no connection was made.

    A connection refused, a name that does not resolve and a connect timeout are
    safe to retry. Anything after the connection opened (a dropped connection, a
    read timeout) may have been received and acted on.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    cause = exc.args[0] if exc.args else None
    # requests wraps urllib3's MaxRetryError, whose reason says which step failed
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)
