"""Structured logs and request ids: JSON lines with the request id, carried into the jobs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from helpers import HAVE_REDIS, REDIS_URL, inbound_form, post_signed
from rq.job import Job

from supportbot import logs
from supportbot.request_id import accept


@pytest.mark.parametrize(
    "given,kept",
    [
        ("7f3c2a9e-1b4d-4c55-9a0e-2f6b8d1c3e4f", True),
        ("Root=1-5759e988-bd862e3fe1be46a994272793", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("abc def", False),
        ('abc"}{"level":"ERROR', False),
        ("abc\nERROR forged line", False),
        ("", False),
        (None, False),
    ],
)
def test_a_request_id_is_kept_only_when_short_and_safe(given, kept):
    got = accept(given)
    assert (got == given) is kept
    assert len(got) <= 128 and "\n" not in got


@pytest.fixture
def captured():
    """Our JSON format on a buffer, on the loggers the inbound path writes to."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.Json())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)


def test_json_lines_carry_the_request_id_and_no_whole_number(client, captured):
    resp = post_signed(client, inbound_form(body="parcel late"), headers={"X-Request-Id": "req-123"})
    assert resp.headers["X-Request-Id"] == "req-123"
    (line,) = [r for r in captured() if r["logger"] == "supportbot.inbound.service"]
    assert line["request_id"] == "req-123" and line["level"] == "INFO"
    assert "from=***0123" in line["event"] and "+14155550123" not in json.dumps(line)
    assert "parcel" not in json.dumps(line)
    assert line["time"].endswith("+00:00") and "job_id" not in line


def test_an_unsafe_request_id_is_replaced_and_answered(client):
    resp = client.get("/healthz", headers={"X-Request-Id": "bad id; level=ERROR"})
    assert len(resp.headers["X-Request-Id"]) == 32 and " " not in resp.headers["X-Request-Id"]
    assert client.get("/healthz").headers["X-Request-Id"]


def test_stray_numbers_are_masked_on_every_line(captured):
    logging.getLogger("supportbot.test").info("agent %s wrote to %s", "+14155550100", "+447700900123")
    (line,) = captured()
    assert line["event"] == "agent ***0100 wrote to ***0123"


@pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")
def test_the_jobs_a_request_enqueues_carry_its_id(make_app, redis_conn):
    # INBOUND_WAKE=notify carries it through a worker: test_deferred.py
    app = make_app(REDIS_URL=REDIS_URL, INBOUND_WAKE="redis")
    post_signed(app.test_client(), inbound_form(body="parcel late"), headers={"X-Request-Id": "req-456"})
    job = Job.fetch("outbox-1", connection=redis_conn)
    assert job.meta["request_id"] == "req-456"
