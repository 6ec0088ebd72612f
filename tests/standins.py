"""Servers the tests talk to over real HTTP: the Jira stand-in, worker processes, Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedApp:
    """A WSGI app served on loopback (a free port unless one is given) from a thread."""

    def __init__(self, app: Any, port: int = 0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class JiraStandin(ServedApp):
    def control(self, **settings: Any) -> None:
        requests.post(self.url + "/_control", json=settings, timeout=5).raise_for_status()

    @property
    def state(self) -> Any:
        return self.app.extensions["jira_state"]

    def issues(self) -> dict[str, dict[str, Any]]:
        with self.state.lock:
            return {k: dict(v) for k, v in self.state.issues.items()}


class Sandbox(ServedApp):
    """The Twilio sandbox served for a test."""

    def control(self, **settings: Any) -> None:
        requests.post(self.url + "/_control", json=settings, timeout=5).raise_for_status()

    def messages(self) -> list[dict]:
        return requests.get(self.url + "/_state", timeout=5).json()["messages"]

    def callbacks(self) -> list[dict]:
        return requests.get(self.url + "/_state", timeout=5).json()["callbacks"]

    def refused(self) -> list[int]:
        return requests.get(self.url + "/_state", timeout=5).json()["refused"]


def env_for(config: Mapping[str, Any]) -> dict[str, str]:
    """A test config as the environment a separate process (worker, gunicorn) reads."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "TWILIO_", "REDIS_", "DATABASE_"))
    }
    for key, value in config.items():
        if value is None or key == "TESTING":
            continue
        env[key] = ",".join(map(str, value)) if isinstance(value, tuple | list) else str(value)
    env["SUPPORTBOT_ENV"] = "production"
    return env


class Worker:
    """A real `flask --app wsgi worker` process."""

    def __init__(self, config: Mapping[str, Any], log: Path):
        self.log_path = log
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "flask"), "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env_for(config),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL the worker and its work horse: no cleanup of any kind."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self.log.closed:
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


class RedisServer:
    """A redis-server of the test's own on another port, which the test may stop and start."""

    def __init__(self, port: int, workdir: Path):
        self.port = port
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_until(lambda: _pings(redis.Redis(port=self.port)), 10, "redis-server to start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(conn: Any) -> bool:
    try:
        return bool(conn.ping())
    except Exception:  # noqa: BLE001
        return False
