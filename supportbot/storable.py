"""Making received text safe to store without changing what it says."""

from __future__ import annotations

from typing import Any


def storable(value: str) -> str:
    # Postgres text and json columns cannot hold NUL; everything else is kept as received
    return value.replace("\x00", "\ufffd")


def storable_json(value: Any) -> Any:
    """storable() applied to every string inside lists and dicts."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): storable_json(v) for k, v in value.items()}
    return value
