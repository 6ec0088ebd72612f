"""Logging to stdout, one event per line.

Callers mask the numbers they log (phone.mask); the formatter masks any that slip
through inside error texts and tracebacks, and hides webhook tokens in request lines.
"""

from __future__ import annotations

import logging
import re
import sys

from supportbot.phone import mask_numbers

FORMAT = "%(asctime)s %(levelname)s %(name)s %(job)s%(message)s"
# a query-string secret (Jira's ?token=) as a request line shows it
_SECRET_QUERY = re.compile(r"([?&](?:token|secret|signature)=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    return mask_numbers(_SECRET_QUERY.sub(r"\1[hidden]", text))


class RedactingFormatter(logging.Formatter):
    """The whole line, traceback included, with numbers masked and query secrets hidden."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JobIdFilter(logging.Filter):
    """Stamps the RQ job id, when there is one, on every line logged inside a job."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = ""
        try:
            from rq import get_current_job

            current = get_current_job()
            if current is not None:
                job = f"job={current.id} "
        except Exception:  # noqa: S110, BLE001 - logging must never fail the caller
            pass
        record.job = job
        return True


def configure(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_supportbot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(FORMAT))
    handler.addFilter(JobIdFilter())
    handler._supportbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
