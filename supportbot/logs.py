"""Logging to stdout, one event per line; numbers are masked by the callers (phone.mask)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s %(job)s%(message)s"


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
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(JobIdFilter())
    handler._supportbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
