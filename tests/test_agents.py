"""Only agents text customers: who may cause an SMS from Jira (issue 7, case 1)."""

from __future__ import annotations

import pytest
import requests
from helpers import CUSTOMER, HAVE_REDIS, PRODUCTION_ENV, run_jobs

from supportbot.tickets.agents import AgentRule, refusal

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="needs Redis")

RULE = AgentRule(groups=frozenset({"support-agents"}), accounts=frozenset({"acc-9"}))


def _groups(known: dict[str, frozenset[str]]):
    def lookup(user: str) -> frozenset[str]:
        return known.get(user, frozenset())

    return lookup


@pytest.mark.parametrize(
    ("author", "agent"),
    [
        ({"accountId": "acc-1"}, True),  # in an agent group
        ({"accountId": "acc-9"}, True),  # listed in JIRA_AGENT_ACCOUNTS
        ({"name": "jdoe", "key": "acc-9"}, True),  # Data Center: a listed key
        ({"accountId": "acc-2"}, False),  # in another group only
        ({"accountId": "acc-3"}, False),  # in no group
        ({}, False),  # no author at all
    ],
)
def test_who_counts_as_an_agent(author, agent):
    known = {"acc-1": frozenset({"support-agents"}), "acc-2": frozenset({"jira-servicedesk-customers"})}
    assert (refusal(author, RULE, _groups(known)) is None) is agent


def test_no_configured_agents_means_nobody_is_one():
    rule = AgentRule(groups=frozenset(), accounts=frozenset())
    assert "no agents are configured" in refusal({"accountId": "a"}, rule, _groups({}))


def test_a_failed_group_lookup_raises_instead_of_answering():
    def broken(user: str) -> frozenset[str]:
        raise RuntimeError("Jira is down")

    with pytest.raises(RuntimeError):
        refusal({"accountId": "acc-1"}, RULE, broken)


def foreign_issue(jira, project: str = "OPS") -> str:
    resp = requests.post(jira.url + "/_issue", json={"project": project, "summary": "x"}, timeout=5)
    resp.raise_for_status()
    return resp.json()["key"]


def test_a_portal_customers_internal_sms_on_another_project_sends_nothing_and_links_nothing(desk, jira):
    """The attack as reported: /sms on an issue outside the project, by a portal customer."""
    d = desk()
    key = d.open_ticket()
    other = foreign_issue(jira)
    d.agent_says(
        other,
        f"/sms {CUSTOMER} Security alert: reply with your card number",
        author="customer-carol",
        jsdPublic=False,
    )
    d.settle(lambda: len(jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    assert d.sandbox.messages() == []
    assert d.comments(other) == [f"/sms {CUSTOMER} Security alert: reply with your card number"]  # no note
    d.text("ok my card is 4111 1111 1111 1111")
    run_jobs(d.app)
    assert d.ticket(1).jira_key == key  # the customer's text still joins their own ticket
    assert any("4111" in c for c in d.comments(key)) and not any("4111" in c for c in d.comments(other))


def test_an_agents_sms_on_another_project_is_refused_too(desk, jira):
    d = desk()
    d.open_ticket()
    other = foreign_issue(jira)
    d.agent_says(other, f"/sms {CUSTOMER} hello from another project")
    d.settle(lambda: len(jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    assert d.sandbox.messages() == []


@pytest.mark.parametrize("public", [True, False])
def test_a_non_agents_comment_is_refused_with_one_internal_note(desk, jira, public):
    d = desk()
    key = d.open_ticket()
    body = "Please text me back" if public else f"/sms {CUSTOMER} Please text me back"
    d.agent_says(key, body, author="customer-carol")
    d.settle(lambda: any("not an agent" in c for c in d.comments(key)), "the refusal note")
    run_jobs(d.app)
    assert d.sandbox.messages() == []
    notes = [c for c in jira.issues()[key]["comments"] if "not an agent" in c["body"]]
    assert len(notes) == 1
    assert notes[0].get("jsdPublic") is False  # internal: never shown to the customer's portal


def test_an_account_listed_in_jira_agent_accounts_may_reply(desk, jira):
    d = desk(JIRA_AGENT_GROUPS="", JIRA_AGENT_ACCOUNTS="agent-bob")
    key = d.open_ticket()
    d.agent_says(key, "Bob here", author="agent-bob")  # a user Jira's group lookup does not know
    d.settle(lambda: len(d.sandbox.messages()) == 1, "Bob's reply")
    d.agent_says(key, "Alice here")  # in support-agents, but groups are not configured now
    d.settle(lambda: any("not an agent" in c for c in d.comments(key)), "the refusal of Alice")
    assert [m["body"] for m in d.sandbox.messages()] == ["Bob here"]


def test_a_failed_group_lookup_is_retried_and_never_read_as_agent(desk, jira):
    d = desk(JOB_RETRY_INTERVALS="1,1,1,1,1,1")
    key = d.open_ticket()
    jira.control(fail_status=500, fail_count=-1, fail_paths="GET /rest/api/2/user")
    d.agent_says(key, "Sent once Jira says who I am")
    d.settle(lambda: len(jira.state.webhooks_sent) >= 1, "the webhook")
    run_jobs(d.app)
    lookups = [c for c in jira.state.calls if c == ("GET", "/rest/api/2/user")]
    assert lookups and d.sandbox.messages() == []
    jira.control(reset_faults=True)
    d.settle(lambda: len(d.sandbox.messages()) == 1, "the reply once the lookup works")


def test_group_membership_is_looked_up_once_for_several_comments(desk, jira):
    d = desk()
    key = d.open_ticket()
    for i in range(3):
        d.agent_says(key, f"reply {i}")
    d.settle(lambda: len(d.sandbox.messages()) == 3, "three replies")
    assert [c for c in jira.state.calls if c == ("GET", "/rest/api/2/user")] == [("GET", "/rest/api/2/user")]


def test_sms_never_moves_another_contacts_ticket(desk, jira):
    d = desk()
    key = d.open_ticket()
    d.text("I am someone else", sender="+14155550188")
    run_jobs(d.app)
    d.agent_says(key, "/sms +14155550188 This is your ticket now")
    d.settle(lambda: any("belongs to another number" in c for c in d.comments(key)), "the refusal")
    assert d.sandbox.messages() == []
    assert d.ticket(1).contact_id != d.ticket(2).contact_id and d.ticket(1).jira_key == key


def test_settings_require_agents_when_jira_is_set():
    from supportbot.config import ConfigError, load

    env = {**PRODUCTION_ENV, "JIRA_URL": "https://x.atlassian.net", "JIRA_WEBHOOK_SECRET": "w"}
    with pytest.raises(ConfigError, match="JIRA_AGENT_GROUPS or JIRA_AGENT_ACCOUNTS is required"):
        load(env)
    assert load({**env, "JIRA_AGENT_GROUPS": "support, tier-2"}).jira_agent_groups == {"support", "tier-2"}
