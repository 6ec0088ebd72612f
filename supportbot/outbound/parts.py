"""A long text as numbered SMS parts, split at word boundaries. Pure."""

from __future__ import annotations

MAX_SMS_CHARS = 1600  # Twilio's limit for one message body


def split_parts(text: str, limit: int = MAX_SMS_CHARS) -> list[str]:
    """No silent truncation: a long text becomes numbered parts split at word boundaries."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    count = 2
    while True:
        parts = _pack_words(text, limit - len(f"({count}/{count}) "))
        if len(parts) <= count:
            return [f"({i}/{len(parts)}) {p}" for i, p in enumerate(parts, 1)]
        count = len(parts)


def _pack_words(text: str, width: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for word in text.split(" "):
        while len(word) > width:  # a "word" longer than a part (a URL): cut it
            if current:
                parts.append(current)
                current = ""
            parts.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > width:
            parts.append(current)
            current = word
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
