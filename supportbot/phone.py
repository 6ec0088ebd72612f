"""Phone numbers: E.164 normalisation and masking for logs."""

from __future__ import annotations

import phonenumbers


def normalise(raw: str, region: str = "US") -> str:
    """E.164 for a real phone number; short codes and alphanumeric senders as they are."""
    value = (raw or "").strip()
    if not value:
        return value
    try:
        parsed = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(parsed):
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(value: str) -> bool:
    """True for a valid, dialable E.164 number (what outbound sends to)."""
    if not value.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and normalise(value) == value


def mask(value: str | None) -> str:
    """The last four characters only, for logs."""
    if not value:
        return "-"
    return "***" + value[-4:]
