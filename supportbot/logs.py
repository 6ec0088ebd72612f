"""Logging to stdout, one event per line: text for people, or JSON for log pipelines.

Callers mask numbers themselves (phone.mask); as a safety net every line has any
E.164 number left in it masked to its last four digits. Each line carries the RQ
job id inside a job and the request id (see operations/request_id.py).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from supportbot.operations import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"
JSON_FIELDS = "{levelname}{name}{message}{job_id}{request_id}"
JSON_NAMES = {"levelname": "level", "name": "logger", "message": "event"}
E164 = re.compile(r"\+\d{7,15}")


def _mask(match: re.Match[str]) -> str:
    return "***" + match.group()[-4:]


class ContextFilter(logging.Filter):
    """Stamps the job id and the request id on every record, and masks stray numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        job_id = None
        try:
            from rq import get_current_job

            current = get_current_job()
            job_id = current.id if current is not None else None
        except Exception:  # noqa: S110, BLE001 - logging must never fail the caller
            pass
        rid = None
        try:
            rid = request_id.current()
        except Exception:  # noqa: S110, BLE001
            pass
        record.job_id, record.request_id = job_id, rid
        record.context = (f"job={job_id} " if job_id else "") + (f"req={rid} " if rid else "")
        message = record.getMessage()
        if "+" in message:
            record.msg, record.args = E164.sub(_mask, message), None
        return True


class Json(JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, event, job_id, request_id."""

    def __init__(self) -> None:
        super().__init__(JSON_FIELDS, style="{", rename_fields=JSON_NAMES, timestamp="time")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # time first for people reading raw lines; no "job_id": null outside a job; the
        # text format's prefix is not a field
        ordered = {"time": log_data.pop("time", None), **log_data}
        return {k: v for k, v in ordered.items() if v is not None and k != "context"}


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_supportbot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(Json() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    handler._supportbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
