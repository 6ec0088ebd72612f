"""The consent ledger as CSV: the CLI's `consent export` and the console's Export CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from supportbot.consent import ledger

COLUMNS = (
    "id",
    "recorded_at",
    "phone",
    "event",
    "source",
    "keyword",
    "message_sid",
    "request_hash",
    "prev_hash",
    "hash",
)


def csv_lines(number: str | None = None) -> Iterator[str]:
    """Header, then one line per ledger row (full numbers: it is an audit record)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(COLUMNS)
    for i, row in enumerate(ledger.rows(number), 1):
        out.writerow([getattr(row, c) or "" for c in COLUMNS])
        if i % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()
