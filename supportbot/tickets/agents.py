"""Who counts as an agent: only agents' Jira comments become SMS. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AgentRule:
    groups: frozenset[str]  # JIRA_AGENT_GROUPS
    accounts: frozenset[str]  # JIRA_AGENT_ACCOUNTS: account ids, or user names or keys


def refusal(
    author: Mapping[str, str], rule: AgentRule, groups_of: Callable[[str], frozenset[str]]
) -> str | None:
    """None when the author is an agent, else why not.

    groups_of asks the help desk for a user's groups and raises when it cannot
    answer: a failed lookup is retried, never read as "agent".
    """
    ids = {value for value in author.values() if value}
    if not ids:
        return "the comment names no author"
    if ids & rule.accounts:
        return None
    if not (rule.groups or rule.accounts):
        return "no agents are configured (JIRA_AGENT_GROUPS or JIRA_AGENT_ACCOUNTS)"
    user = author.get("accountId") or author.get("name") or author.get("key") or ""
    if rule.groups and user and groups_of(user) & rule.groups:
        return None
    return "its author is not an agent (not in JIRA_AGENT_GROUPS or JIRA_AGENT_ACCOUNTS)"
