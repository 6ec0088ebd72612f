"""The app as a user meets it, for the browser tests: gunicorn, an RQ worker, Postgres and Redis.

Process A runs in development mode (the dev phone and the Twilio sandbox are mounted
in it; one process, so the phone sees what its sandbox accepted). Process B is a
second gunicorn in production mode on the same database and Redis: it proves that a
published keyword version reaches another process.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from standins import BIN, ROOT, env_for, free_port, wait_until

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "instance" / "screenshots"))


class Proc:
    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.log_path = log
        self.proc = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


class Stack:
    def __init__(self, config: Mapping[str, Any], logs: Path):
        self.procs: list[Proc] = []
        port_a, port_b = free_port(), free_port()
        self.a = f"http://127.0.0.1:{port_a}"
        self.b = f"http://127.0.0.1:{port_b}"
        common = {**config, "KEYWORDS_POLL_SECONDS": 1, "OUTBOUND_MPS": 20}
        dev = env_for({**common, "PUBLIC_BASE_URL": self.a, "TWILIO_API_BASE_URL": None})
        dev.pop("TWILIO_API_BASE_URL", None)  # development sends to the sandbox mounted in A
        dev.update(SUPPORTBOT_ENV="development", ADMIN_PASSWORD="admin", ADMIN_EMAIL="admin@localhost")
        prod = env_for({**common, "PUBLIC_BASE_URL": self.b})
        gunicorn = [str(BIN / "gunicorn"), "wsgi:app", "--workers", "1", "--threads", "8", "--timeout", "60"]
        try:
            self.procs.append(Proc([*gunicorn, "--bind", f"127.0.0.1:{port_a}"], dev, logs / "web-a.log"))
            self.procs.append(Proc([*gunicorn, "--bind", f"127.0.0.1:{port_b}"], prod, logs / "web-b.log"))
            self.procs.append(Proc([str(BIN / "flask"), "--app", "wsgi", "worker"], dev, logs / "worker.log"))
            wait_until(lambda: _answers(self.a) and _answers(self.b), 30, "both gunicorns to answer")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
