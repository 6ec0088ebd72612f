"""/metrics: the token, what is counted, what never appears, and the gauges computed at scrape time."""

from __future__ import annotations

import pytest
import requests
from helpers import (
    HAVE_REDIS,
    REDIS_URL,
    inbound_form,
    post_signed,
    publish_unparseable_version,
    samples,
    scrape,
    value,
)

from standins import free_port, wait_until
from supportbot.jobs import exporter
from supportbot.metrics import bearer_ok

CUSTOMER = "+14155550123"


@pytest.mark.parametrize(
    "header,ok",
    [
        ("Bearer s3cret-token", True),
        ("bearer s3cret-token", True),
        ("Bearer s3cret-tokeN", False),
        ("Bearer ", False),
        ("Basic s3cret-token", False),
        ("s3cret-token", False),
        ("", False),
    ],
)
def test_the_bearer_token_must_match_exactly(header, ok):
    assert bearer_ok(header, "s3cret-token") is ok


def test_metrics_needs_the_token_when_one_is_set(make_app):
    client = make_app(METRICS_TOKEN="s3cret-token").test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_texts_are_counted_by_route_and_no_number_or_body_is_exposed(client):
    before = scrape(client)
    texts = [("STOP", "STOP"), ("HOURS", "HOURS"), ("where is my parcel 4111", "default")]
    for i, (body, _) in enumerate(texts):
        assert post_signed(client, inbound_form(sid=f"SMm{i:030d}", body=body)).status_code == 200
    # a replayed webhook counts as a duplicate, not as a second text
    post_signed(client, inbound_form(sid=f"SMm{0:030d}", body="STOP"))
    resp = client.get("/metrics")
    text = resp.get_data(as_text=True)
    after = samples(text)
    inbound = "supportbot_inbound_messages_total"
    assert (
        value(after, inbound, route="STOP", action="opt_out")
        - value(before, inbound, route="STOP", action="opt_out")
        == 1
    )
    assert (
        value(after, inbound, route="HOURS", action="reply")
        - value(before, inbound, route="HOURS", action="reply")
        == 1
    )
    assert (
        value(after, inbound, route="duplicate", action="duplicate")
        - value(before, inbound, route="duplicate", action="duplicate")
        == 1
    )
    consent = ("supportbot_consent_events_total", {"event": "opt_out", "source": "keyword"})
    assert value(after, consent[0], **consent[1]) - value(before, consent[0], **consent[1]) == 1
    answered = "supportbot_http_responses_total"
    assert (
        value(after, answered, endpoint="/twilio/inbound", code="200")
        - value(before, answered, endpoint="/twilio/inbound", code="200")
        == 4
    )
    assert value(after, "supportbot_http_request_duration_seconds_count", endpoint="/twilio/inbound") >= 4
    for secret in (CUSTOMER, CUSTOMER[-10:], "parcel", "SMm0"):
        assert secret not in text


def test_forged_paths_and_unknown_values_add_no_series(client):
    before = scrape(client)
    for i in range(5):
        client.get(f"/no/such/path/{i}")
    after = scrape(client)
    assert (
        value(after, "supportbot_http_responses_total", endpoint="unmatched", code="404")
        - value(before, "supportbot_http_responses_total", endpoint="unmatched", code="404")
        == 5
    )
    assert not [k for k in after if "/no/such" in str(k)]


def test_scrape_time_gauges_show_the_outbox_backlog_and_the_keyword_version(make_app):
    app = make_app()
    client = app.test_client()
    found = scrape(client)
    assert value(found, "supportbot_outbox_pending") == 0
    assert value(found, "supportbot_outbox_oldest_pending_age_seconds") == 0
    assert value(found, "supportbot_state_up", source="database") == 1
    assert value(found, "supportbot_keywords_refused") == 0
    version = value(found, "supportbot_keywords_version")
    assert version > 0
    # a refused version keeps the old one in force and says so
    publish_unparseable_version(app)
    found = scrape(client)
    assert value(found, "supportbot_keywords_refused") == 1
    assert value(found, "supportbot_keywords_version") == version


@pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")
def test_queue_depths_and_outbox_age_come_from_redis_and_postgres(make_app, redis_conn):
    # the request enqueues its job itself (INBOUND_WAKE=notify would leave it to a worker)
    app = make_app(REDIS_URL=REDIS_URL, INBOUND_WAKE="redis")
    client = app.test_client()
    post_signed(client, inbound_form(body="my parcel is late"))  # a ticket job, and no worker to run it
    found = scrape(client)
    assert value(found, "supportbot_rq_queue_depth", queue="tickets") == 1
    assert value(found, "supportbot_rq_queue_depth", queue="outbound") == 0
    assert value(found, "supportbot_rq_workers") == 0
    assert value(found, "supportbot_outbox_pending") == 1
    assert value(found, "supportbot_state_up", source="redis") == 1
    wait_until(
        lambda: value(scrape(client), "supportbot_outbox_oldest_pending_age_seconds") > 0.2,
        5,
        "the age to grow",
    )


def test_a_redis_that_does_not_answer_shows_as_state_down_not_as_a_failed_scrape(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    found = scrape(app.test_client())
    assert value(found, "supportbot_state_up", source="redis") == 0
    assert value(found, "supportbot_state_up", source="database") == 1


def test_the_worker_exporter_serves_its_process_values_behind_the_token():
    server = exporter.serve("127.0.0.1", 0, "w-token")
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert requests.get(url + "/metrics", timeout=5).status_code == 401
        assert (
            requests.get(url + "/other", headers={"Authorization": "Bearer w-token"}, timeout=5).status_code
            == 404
        )
        resp = requests.get(url + "/metrics", headers={"Authorization": "Bearer w-token"}, timeout=5)
        assert resp.status_code == 200
        assert "supportbot_jobs_total" in resp.text
    finally:
        server.shutdown()
        server.server_close()
