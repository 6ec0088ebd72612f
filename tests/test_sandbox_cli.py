"""`flask --app wsgi sandbox`: the Twilio stand-in on its own port."""

from __future__ import annotations

import subprocess

import requests
from helpers import ACCOUNT_SID, AUTH_TOKEN

from standins import BIN, ROOT, free_port, wait_until


def test_the_sandbox_command_serves_the_messages_api(tmp_path):
    port = free_port()
    env = {
        "PATH": str(BIN),
        "SUPPORTBOT_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    proc = subprocess.Popen(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "sandbox", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    def answers():
        try:
            return requests.post(
                url,
                data={"To": "+14155550123", "From": "+15005550006", "Body": "hi"},
                auth=(ACCOUNT_SID, AUTH_TOKEN),
                timeout=2,
            )
        except requests.ConnectionError:
            return None

    try:
        resp = wait_until(answers, 20, "the sandbox to answer")
        assert resp.status_code == 201 and resp.json()["sid"].startswith("SM")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
