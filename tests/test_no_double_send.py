"""A retried send never sends twice: only a request that provably did not reach
Twilio is retried (issue 7, case 3). Each case uses a stand-in that misbehaves so."""

from __future__ import annotations

import socket
import threading

import pytest
from helpers import HAVE_REDIS, run_jobs

from standins import ServedApp, free_port
from supportbot.sandbox.twilio import create_twilio_sandbox

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


class DropAfterRead:
    """Reads each whole request, then closes the connection without a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head.split(b"\r\n")[0])

    def close(self) -> None:
        self.sock.close()


class Unanswered:
    """A listening socket whose accept queue is full: connecting times out (a SYN nobody answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.fillers = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(c)

    def close(self) -> None:
        for c in self.fillers:
            c.close()
        self.sock.close()


def _messages_posts(lines: list[bytes]) -> int:
    return sum(1 for line in lines if line.startswith(b"POST ") and b"/Messages.json" in line)


def test_a_connection_dropped_after_the_request_is_may_have_been_sent_and_never_resent(desk):
    dropper = DropAfterRead()
    try:
        d = desk(TWILIO_API_BASE_URL=dropper.url, JOB_RETRY_INTERVALS="1,1,1")
        key = d.open_ticket()
        d.agent_says(key, "Your refund is on its way")
        d.settle(lambda: any("may have been sent" in c for c in d.comments(key)), "the note", 30)
        run_jobs(d.app)
        assert _messages_posts(dropper.requests) == 1
        (msg,) = d.messages()
        assert msg.status == "unknown"
        note = next(c for c in d.comments(key) if "may have been sent" in c)
        assert "post the reply again" in note and "+1415" not in note
    finally:
        dropper.close()


def test_a_twilio_5xx_is_may_have_been_sent_and_never_resent(desk):
    d = desk(JOB_RETRY_INTERVALS="1,1,1")
    key = d.open_ticket()
    d.sandbox.control(fail_next=1)
    d.agent_says(key, "Are you still there?")
    d.settle(lambda: any("may have been sent" in c for c in d.comments(key)), "the note", 30)
    run_jobs(d.app)
    assert d.sandbox.refused() == [20500]  # the one request; no second one followed
    assert d.sandbox.messages() == []
    assert d.messages()[0].status == "unknown"


def test_a_refused_connection_is_retried_until_sent_once(desk):
    port = free_port()  # nothing listens here yet: every connection is refused
    d = desk(TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}", JOB_RETRY_INTERVALS="1,1,1,1,1")
    key = d.open_ticket()
    d.agent_says(key, "Sent after Twilio comes back")
    d.settle(lambda: len(d.jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    assert d.messages()[0].status == "pending"  # refused: not sent, and waiting for a retry
    late = ServedApp(create_twilio_sandbox(ACCOUNT_SID, AUTH_TOKEN), port)
    try:
        d.settle(lambda: len(requests_at(late)) == 1, "the SMS once Twilio answers", 30)
        run_jobs(d.app)
        assert len(requests_at(late)) == 1
    finally:
        late.close()


def requests_at(served: ServedApp) -> list[dict]:
    return served.app.test_client().get("/_state").get_json()["messages"]


def test_a_connect_timeout_is_retried_and_never_may_have_been_sent(desk):
    silent = Unanswered()
    try:
        d = desk(TWILIO_API_BASE_URL=silent.url, TWILIO_TIMEOUT=1, JOB_RETRY_INTERVALS="30")
        key = d.open_ticket()
        d.agent_says(key, "Knock knock")
        d.settle(lambda: len(d.jira.state.webhooks_sent) >= 1, "the webhook")
        run_jobs(d.app)
        (msg,) = d.messages()
        assert msg.status == "pending"  # a retry will send it; nothing reached Twilio
        assert not any("may have been sent" in c for c in d.comments(key))
    finally:
        silent.close()
