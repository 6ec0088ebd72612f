"""X-Twilio-Signature: accepted or refused exactly as Twilio's own validator decides."""

from __future__ import annotations

import pytest
from helpers import AUTH_TOKEN, PRODUCTION_ENV, PUBLIC, inbound_form, sign
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

PATH = "/twilio/inbound"


def post(client, form, signature, path=PATH, **kw):
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature}, **kw)


def test_a_correct_signature_is_accepted(client):
    form = inbound_form()
    assert post(client, form, sign(PUBLIC + PATH, form)).status_code == 200


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("wrong token", lambda form: (form, sign(PUBLIC + PATH, form, token="not-the-token"))),
        ("changed parameter", lambda form: ({**form, "Body": "changed"}, sign(PUBLIC + PATH, form))),
        ("added parameter", lambda form: ({**form, "Extra": "1"}, sign(PUBLIC + PATH, form))),
        ("http instead of https", lambda form: (form, sign(PUBLIC.replace("https", "http") + PATH, form))),
        ("other path", lambda form: (form, sign(PUBLIC + "/twilio/status", form))),
        ("no signature", lambda form: (form, "")),
    ],
)
def test_a_tampered_request_is_403_and_stores_nothing(app, client, case, change):
    form, signature = change(inbound_form())
    resp = post(client, form, signature)
    assert resp.status_code == 403, case
    from supportbot.extensions import db
    from supportbot.models import Message

    with app.app_context():
        assert db.session.query(Message).count() == 0


def test_a_repeated_parameter_counts(client):
    """Repeated keys are signed value by value; dropping one must fail."""
    pairs = [
        *inbound_form().items(),
        ("MediaUrl0", "https://a.example/1"),
        ("MediaUrl0", "https://a.example/2"),
    ]
    good = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + PATH, MultiDict(pairs))
    assert post(client, MultiDict(pairs), good).status_code == 200
    form = inbound_form(sid="SM" + "b" * 32)
    pairs2 = [*form.items(), ("MediaUrl0", "https://a.example/1"), ("MediaUrl0", "https://a.example/2")]
    one = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + PATH, MultiDict(pairs2[:-1]))
    assert post(client, MultiDict(pairs2), one).status_code == 403


@pytest.mark.parametrize("signed_base", ["https://bot.example.com", "https://bot.example.com:443"])
def test_signed_with_or_without_the_default_port(client, signed_base):
    form = inbound_form()
    assert post(client, form, sign(signed_base + PATH, form)).status_code == 200


def test_a_query_string_with_percent_27_is_signed_as_sent(client):
    """request.url would decode %27; the raw query string must be used."""
    form = inbound_form()
    query = "name=O%27Brien&x=1"
    good = sign(f"{PUBLIC}{PATH}?{query}", form)
    assert post(client, form, good, path=f"{PATH}?{query}").status_code == 200
    decoded = sign(f"{PUBLIC}{PATH}?name=O'Brien&x=1", form)
    form2 = inbound_form(sid="SM" + "c" * 32)
    assert post(client, form2, decoded, path=f"{PATH}?{query}").status_code == 403


def forwarded(form, signed_url):
    return {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "public.example.org",
        "X-Twilio-Signature": sign(signed_url + PATH, form),
    }


def test_without_public_base_url_the_url_is_rebuilt_behind_trusted_proxies(make_app):
    client = make_app(PUBLIC_BASE_URL=None, TRUSTED_PROXIES=1).test_client()
    form = inbound_form()
    assert (
        client.post(PATH, data=form, headers=forwarded(form, "https://public.example.org")).status_code == 200
    )


def test_forwarded_headers_are_ignored_without_trusted_proxies(make_app):
    client = make_app(PUBLIC_BASE_URL=None, TRUSTED_PROXIES=0).test_client()
    form = inbound_form()
    assert (
        client.post(PATH, data=form, headers=forwarded(form, "https://public.example.org")).status_code == 403
    )
    assert client.post(PATH, data=form, headers=forwarded(form, "http://localhost")).status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_prefix_is_part_of_the_signed_url(make_app):
    client = make_app(PUBLIC_BASE_URL=None, TRUSTED_PROXIES=1).test_client()
    form = inbound_form()
    signed = "https://public.example.org/support" + PATH
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "public.example.org",
        "X-Forwarded-Prefix": "/support",
        "X-Twilio-Signature": sign(signed, form),
    }
    assert client.post(PATH, data=form, headers=headers).status_code == 200
    without_prefix = {**headers, "X-Twilio-Signature": sign("https://public.example.org" + PATH, form)}
    assert client.post(PATH, data=form, headers=without_prefix).status_code == 403


def test_a_public_base_url_with_a_path_is_the_signed_prefix(make_app):
    client = make_app(PUBLIC_BASE_URL="https://public.example.org/support/").test_client()
    form = inbound_form()
    signed = {"X-Twilio-Signature": sign("https://public.example.org/support" + PATH, form)}
    assert client.post(PATH, data=form, headers=signed).status_code == 200


def test_a_request_signed_for_another_host_is_refused_in_production(make_app):
    """Without PUBLIC_BASE_URL production would trust the Host header; it refuses to start instead."""
    from supportbot.config import ConfigError, load

    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PUBLIC_BASE_URL"}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL or TRUSTED_PROXIES is required"):
        load(env)
    assert load({**env, "TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    client = make_app(PUBLIC_BASE_URL="https://bot.example.com").test_client()
    form = inbound_form()
    other_app = {
        "Host": "other-app.example.com",
        "X-Twilio-Signature": sign("http://other-app.example.com" + PATH, form),
    }
    assert client.post(PATH, data=form, headers=other_app).status_code == 403
