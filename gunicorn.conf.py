"""gunicorn settings for supportbot's web process: Prometheus multiprocess mode.

Every gunicorn worker is its own process, so /metrics must add up all of them:
prometheus_client's multiprocess mode keeps each process's values in files under
PROMETHEUS_MULTIPROC_DIR. This file sets that variable before any worker imports the
app, empties the directory when gunicorn starts (values of an earlier run must not
add up with this one's), and tells the library when a worker exits. Give the
directory to this gunicorn alone: RQ workers serve their own values (METRICS_PORT).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_made_here = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_here:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="supportbot-metrics-")
METRICS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

# the access log names the path without its query string: `?q=` and `?number=` of the
# admin pages carry phone numbers, and a Jira `?token=` a secret
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


def on_starting(server: Any) -> None:
    METRICS_DIR.mkdir(parents=True, exist_ok=True)
    for leftover in METRICS_DIR.glob("*.db"):
        leftover.unlink()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, str(METRICS_DIR))


def on_exit(server: Any) -> None:
    if _made_here:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
