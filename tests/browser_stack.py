"""The app as a user meets it, for the browser tests: gunicorn, an RQ worker, Postgres and Redis.

Process A runs in development mode (the dev phone and the Twilio sandbox are mounted
in it; one process, so the phone sees what its sandbox accepted). Process B is a
second gunicorn in production mode on the same database and Redis: it proves that a
published keyword version reaches another process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from standins import BIN, ROOT, Gunicorn, Process, env_for, free_port, wait_until

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "instance" / "screenshots"))


class Stack:
    def __init__(self, config: Mapping[str, Any], logs: Path):
        self.procs: list[Process] = []
        port_a, port_b = free_port(), free_port()
        self.a = f"http://127.0.0.1:{port_a}"
        self.b = f"http://127.0.0.1:{port_b}"
        common = {**config, "KEYWORDS_POLL_SECONDS": 1, "OUTBOUND_MPS": 20}
        dev = env_for({**common, "PUBLIC_BASE_URL": self.a, "TWILIO_API_BASE_URL": None})
        dev.pop("TWILIO_API_BASE_URL", None)  # development sends to the sandbox mounted in A
        dev.update(SUPPORTBOT_ENV="development", ADMIN_PASSWORD="admin", ADMIN_EMAIL="admin@localhost")
        prod = env_for({**common, "PUBLIC_BASE_URL": self.b})
        options = ["--workers", "1", "--threads", "8", "--timeout", "60"]
        try:
            web_a = Gunicorn(dev, port_a, logs / "web-a.log", options)
            self.procs.append(web_a)
            web_b = Gunicorn(prod, port_b, logs / "web-b.log", options)
            self.procs.append(web_b)
            self.procs.append(
                Process([str(BIN / "flask"), "--app", "wsgi", "worker"], dev, logs / "worker.log")
            )
            wait_until(lambda: web_a.answers() and web_b.answers(), 30, "both gunicorns to answer")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
