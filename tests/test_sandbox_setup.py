"""The sandbox's account-setup endpoints answer with the shapes of Twilio's OpenAPI files
(property names kept in tests/data/twilio_schemas.json), and their knobs refuse typos."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from helpers import ACCOUNT_SID, AUTH_TOKEN

from supportbot.sandbox.twilio_setup import DEV_NUMBER, DEV_SERVICE_SID

SCHEMAS = json.loads((Path(__file__).parent / "data" / "twilio_schemas.json").read_text())
AUTH = (ACCOUNT_SID, AUTH_TOKEN)


def get(sandbox, path: str, auth=AUTH) -> requests.Response:
    return requests.get(sandbox.url + path, auth=auth, timeout=5)


def test_accounts_and_numbers_have_the_spec_fields(sandbox):
    account = get(sandbox, f"/2010-04-01/Accounts/{ACCOUNT_SID}.json").json()
    assert sorted(account) == SCHEMAS["api.v2010.account"]
    listed = get(
        sandbox, f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json?PhoneNumber=%2B15005550006"
    )
    body = listed.json()
    assert sorted(body) == SCHEMAS["list:IncomingPhoneNumbers"]
    (number,) = body["incoming_phone_numbers"]
    assert sorted(number) == SCHEMAS["api.v2010.account.incoming_phone_number"]
    fetched = get(
        sandbox, f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{number['sid']}.json"
    ).json()
    assert fetched == number


def test_messaging_services_have_the_spec_fields(sandbox):
    service = get(sandbox, f"/v1/Services/{DEV_SERVICE_SID}").json()
    assert sorted(service) == SCHEMAS["messaging.v1.service"]
    senders = get(sandbox, f"/v1/Services/{DEV_SERVICE_SID}/PhoneNumbers").json()
    assert sorted(senders) == SCHEMAS["list:PhoneNumbers"] and sorted(senders["meta"]) == SCHEMAS["meta"]
    assert [sorted(n) for n in senders["phone_numbers"]] == [SCHEMAS["messaging.v1.service.phone_number"]]
    assert senders["phone_numbers"][0]["phone_number"] == DEV_NUMBER
    campaigns = get(sandbox, f"/v1/Services/{DEV_SERVICE_SID}/Compliance/Usa2p").json()
    assert sorted(campaigns) == SCHEMAS["list:Usa2p"]
    assert [sorted(c) for c in campaigns["compliance"]] == [SCHEMAS["messaging.v1.service.us_app_to_person"]]


@pytest.mark.parametrize(
    "path",
    [
        f"/2010-04-01/Accounts/{ACCOUNT_SID}.json",
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json",
        f"/v1/Services/{DEV_SERVICE_SID}",
        f"/v1/Services/{DEV_SERVICE_SID}/PhoneNumbers",
        f"/v1/Services/{DEV_SERVICE_SID}/Compliance/Usa2p",
    ],
)
def test_every_setup_endpoint_needs_the_credentials(sandbox, path):
    resp = get(sandbox, path, auth=(ACCOUNT_SID, "wrong"))
    assert resp.status_code == 401 and resp.json()["code"] == 20003


def test_an_unknown_service_is_twilios_404(sandbox):
    resp = get(sandbox, "/v1/Services/MG" + "9" * 32)
    assert resp.status_code == 404 and resp.json()["code"] == 20404


@pytest.mark.parametrize(
    "knobs",
    [
        {"acount_status": "suspended"},
        {"number": {"sms_url": "x"}},
        {"number": {"phone_number": DEV_NUMBER, "sms_ur": "x"}},
        {"service": {"sid": DEV_SERVICE_SID, "inbound_url": "x"}},
    ],
)
def test_setup_knobs_refuse_what_they_do_not_know(sandbox, knobs):
    resp = requests.post(sandbox.url + "/_control/setup", json=knobs, timeout=5)
    assert resp.status_code == 400


def test_jira_admin_knobs_refuse_what_they_do_not_know(jira):
    assert requests.post(jira.url + "/_control/admin", json={"group": {}}, timeout=5).status_code == 400
