"""The ledger's hash chain: pure functions, no database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

GENESIS = "0" * 64
# the fields a row's hash covers, in this order; adding one needs a new chain version
FIELDS = ("phone", "event", "source", "keyword", "message_sid", "request_hash", "recorded_at")


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    payload = json.dumps([prev_hash, *(row.get(f) for f in FIELDS)], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken(rows: Iterable[Mapping[str, Any]]) -> tuple[Any, str] | None:
    """(row id, reason) for the first row that breaks the chain, or None when whole.

    A deleted row shows as the next row's prev_hash not matching; an edited row
    as its own hash not matching its fields.
    """
    prev = GENESIS
    for row in rows:
        if row["prev_hash"] != prev:
            return row["id"], "prev_hash does not match the row before it (a row was removed)"
        if row_hash(prev, row) != row["hash"]:
            return row["id"], "hash does not match the row's contents (the row was edited)"
        prev = row["hash"]
    return None
