"""Servers the tests and benchmarks talk to over real HTTP, each on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from werkzeug.serving import make_server

# how often a served app's loop looks for shutdown(); socketserver's 0.5 s made every
# test that serves a stand-in wait half a second per server at teardown
POLL_INTERVAL = 0.05


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
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )
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


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
