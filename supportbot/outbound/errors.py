"""Twilio error codes: what each means and what the pipeline does about it."""

from __future__ import annotations

from dataclasses import dataclass

RETRY, FINAL, OPTED_OUT = "retry", "final", "opted_out"


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
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return ErrorInfo(code or 0, f"Twilio answered {http_status}", RETRY)
    return ErrorInfo(code or 0, f"Twilio error {code or http_status}", FINAL)
