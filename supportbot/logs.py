"""Logging to stdout, one event per line: text for people, or JSON for log pipelines.

Callers mask the numbers they log (phone.mask); as a safety net the formatters mask
any number left in a line (inside error texts and tracebacks too) and hide webhook
tokens in request lines. Each line carries the RQ job id inside a job and the
request id (see request_id.py).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from supportbot import request_id
from supportbot.phone import mask_numbers

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"
JSON_FIELDS = "{levelname}{name}{message}{job_id}{request_id}"
JSON_NAMES = {"levelname": "level", "name": "logger", "message": "event"}
# a query-string secret (Jira's ?token=) as a request line shows it
_SECRET_QUERY = re.compile(r"([?&](?:token|secret|signature)=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    return mask_numbers(_SECRET_QUERY.sub(r"\1[hidden]", text))


class ContextFilter(logging.Filter):
    """Stamps the job id and the request id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            job_id, rid = request_id.current_job_id(), request_id.current()
        except Exception:  # noqa: BLE001 - logging must never fail the caller
            job_id, rid = None, None
        record.job_id, record.request_id = job_id, rid
        record.context = (f"job={job_id} " if job_id else "") + (f"req={rid} " if rid else "")
        return True


class RedactingFormatter(logging.Formatter):
    """The whole line, traceback included, with numbers masked and query secrets hidden."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class Json(JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, event, job_id, request_id."""

    def __init__(self) -> None:
        super().__init__(JSON_FIELDS, style="{", rename_fields=JSON_NAMES, timestamp="time")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # time first for people reading raw lines; no "job_id": null outside a job; the
        # text format's prefix is not a field
        ordered = {"time": log_data.pop("time", None), **log_data}
        return {k: v for k, v in ordered.items() if v is not None and k != "context"}

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_supportbot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(Json() if fmt == "json" else RedactingFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    handler._supportbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
