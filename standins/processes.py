"""Processes the tests and benchmarks start: real RQ workers and a Redis of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis
import requests

from standins.servers import wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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


class Process:
    """A child process in a session of its own, its output in a log file; stop() ends it."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path):
        self.log_path = log
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=dict(env), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def terminate(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM and wait for it; SIGKILL after 20 s."""
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self.log.closed:
            self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class Gunicorn(Process):
    """`gunicorn wsgi:app` on a port, answering /healthz before the constructor returns."""

    def __init__(self, env: Mapping[str, str], port: int, log: Path, options: list[str] | None = None):
        args = [str(BIN / "gunicorn"), *(options or []), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
        super().__init__(args, env, log)
        self.url = f"http://127.0.0.1:{port}"

    def answers(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> list[int]:
        out = subprocess.run(  # noqa: S603
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(p) for p in out.split()]


class Worker(Process):
    """A real `flask --app wsgi worker` process."""

    def __init__(self, config: Mapping[str, Any], log: Path):
        super().__init__([str(BIN / "flask"), "--app", "wsgi", "worker"], env_for(config), log)
        self._terminated = False

    def kill(self) -> None:
        """SIGKILL the worker and its work horse: no cleanup of any kind."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def pause(self) -> None:
        """SIGSTOP the worker and its scheduler: it takes no job until resume()."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.proc.pid, signal.SIGCONT)

    def terminate(self) -> None:
        """Ask for RQ's warm shutdown (once: a second SIGTERM would be a cold one)."""
        if self.proc.poll() is None and not self._terminated:
            self._terminated = True
            os.killpg(self.proc.pid, signal.SIGTERM)
            os.killpg(self.proc.pid, signal.SIGCONT)  # a paused worker must see the SIGTERM


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
