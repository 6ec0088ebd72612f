"""Phone numbers: E.164 normalisation and masking for logs."""

from __future__ import annotations

import re

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


# a + followed by 8 to 15 digits, optionally split by spaces, dots or dashes: what an
# E.164 number looks like inside free text (an error message, a traceback)
_NUMBER_IN_TEXT = re.compile(r"\+\d(?:[ .-]?\d){7,14}")


def mask_numbers(text: str) -> str:
    """Every phone number inside a text, masked to its last four digits."""
    return _NUMBER_IN_TEXT.sub(lambda m: mask(re.sub(r"\D", "", m.group())), text)
