"""GSM-7 / UCS-2 encoding and segment count, as Twilio's segment calculator counts.

The gsm0338 codec knows the GSM 03.38 alphabet (an extension character costs
two septets: escape and character); no library packs segments the way Twilio
does (an escape pair or a UTF-16 surrogate pair is never split across two
segments), so that packing is ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import gsm0338  # noqa: F401 - registers the "gsm03.38" codec

GSM_SINGLE, GSM_MULTI = 160, 153  # septets
UCS_SINGLE, UCS_MULTI = 70, 67  # UTF-16 code units


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int  # septets or UTF-16 code units


@lru_cache(maxsize=4096)
def _septets(char: str) -> int:
    """Septets for one character, 0 when GSM-7 cannot carry it."""
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return 0


def _pack(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            count += 1
            used = 0
        used += cost
    return count


def count_segments(text: str) -> Segments:
    septets = [_septets(c) for c in text]
    if all(septets):
        return Segments("GSM-7", _pack(septets, GSM_SINGLE, GSM_MULTI), sum(septets))
    units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Segments("UCS-2", _pack(units, UCS_SINGLE, UCS_MULTI), sum(units))
