"""The one normalisation both keywords and incoming texts go through."""

from __future__ import annotations

import unicodedata


def strip_trailing_punctuation(text: str) -> str:
    end = len(text)
    while end and unicodedata.category(text[end - 1]).startswith("P"):
        end -= 1
    return text[:end]


def normalise(text: str) -> str:
    """NFKC, upper case, inner whitespace folded, outer whitespace and trailing punctuation gone."""
    folded = unicodedata.normalize("NFKC", text).casefold().upper()
    return strip_trailing_punctuation(" ".join(folded.split()))
