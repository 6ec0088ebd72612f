"""Doctor: Jira as supportbot needs it, read through the jira client the backend builds.

Credentials, the project, the issue type, the transitions we name, the agent groups
and accounts. No import of jira here: the backend module is the only one.
"""

from __future__ import annotations

from typing import Any

from supportbot.config import Settings
from supportbot.doctor.report import Check, fail, ok, warn
from supportbot.tickets.jira_backend import JiraBackend

CREDENTIALS_FIX = (
    "Jira Cloud: JIRA_USER (the bot's email) and JIRA_API_TOKEN (an API token); "
    "Data Center: a personal access token in JIRA_API_TOKEN and no JIRA_USER"
)


def _why(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status is None:
        return f"Jira does not answer ({exc.__class__.__name__})"
    text = (getattr(exc, "text", "") or "").strip().replace("\n", " ")
    return f"Jira answered {status}" + (f": {text[:200]}" if text else "")


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None)


def check(config: Settings) -> list[Check]:
    if not config.jira_url:
        return []
    client = JiraBackend.from_settings(config).client
    try:
        me = client.myself()
    except Exception as exc:  # noqa: BLE001 - JIRAError or a network error: either is the answer
        fix = CREDENTIALS_FIX if _status(exc) in (401, 403) else "check JIRA_URL and the network"
        return [fail("jira credentials", _why(exc), fix)]
    who = me.get("displayName") or me.get("emailAddress") or me.get("name") or me.get("accountId")
    out = [ok("jira credentials", f"signed in as {who}")]
    key = config.jira_project_key
    try:
        project = client.project(key)
    except Exception as exc:  # noqa: BLE001
        return [
            *out,
            fail(
                "jira project",
                f"{key}: {_why(exc)}",
                "set JIRA_PROJECT_KEY to a project the bot's user can browse (Browse projects permission)",
            ),
        ]
    out.append(ok("jira project", f"{key} ({project.name})"))
    types = [t.name for t in getattr(project, "issueTypes", [])]
    wanted = config.jira_issue_type
    if wanted not in types:
        out.append(
            fail(
                "jira issue type",
                f"{wanted} is not an issue type of {key} (it has {', '.join(types) or 'none'})",
                "set JIRA_ISSUE_TYPE to one of them",
            )
        )
    else:
        out.append(ok("jira issue type", wanted))
    out += _transitions(client, config, key, wanted)
    out += _agents(client, config)
    return out


def _known_moves(client: Any, key: str, issue_type: str) -> set[str]:
    """Status names of the project's workflow, and transitions offered on the newest ticket."""
    names: set[str] = set()
    for entry in client._get_json(f"project/{key}/statuses"):
        if entry.get("name") == issue_type:
            names |= {s["name"].lower() for s in entry.get("statuses", [])}
    found = client.search_issues(
        f'project = "{key}" AND labels = "supportbot" ORDER BY created DESC', maxResults=1, json_result=True
    )
    for issue in found.get("issues", []):
        for t in client.transitions(issue["key"]):
            names |= {t["name"].lower(), ((t.get("to") or {}).get("name") or "").lower()}
    return names


def _transitions(client: Any, config: Settings, key: str, issue_type: str) -> list[Check]:
    named = [
        (setting, value)
        for setting, value in (
            ("JIRA_REOPEN_TRANSITION", config.jira_reopen_transition),
            ("JIRA_ACK_TRANSITION", config.jira_ack_transition),
        )
        if value
    ]
    if not named:
        return []
    try:
        known = _known_moves(client, key, issue_type)
    except Exception as exc:  # noqa: BLE001
        return [
            warn("jira transitions", f"could not read the workflow: {_why(exc)}", "check Browse projects")
        ]
    out = []
    for setting, name in named:
        if name.strip().lower() in known:
            out.append(ok("jira transitions", f"{setting} {name!r} is in the workflow"))
        else:
            out.append(
                warn(
                    "jira transitions",
                    f"{setting} {name!r} is neither a status of {key}'s {issue_type} workflow "
                    "nor a transition of its newest ticket",
                    f"set {setting} to a transition name or the status it leads to",
                )
            )
    return out


def _agents(client: Any, config: Settings) -> list[Check]:
    out = []
    for group in config.jira_agent_groups:
        try:
            client._get_json("group/member", params={"groupname": group, "maxResults": 1})
        except Exception as exc:  # noqa: BLE001
            out.append(
                fail(
                    "jira agents",
                    f"group {group!r}: {_why(exc)}",
                    "set JIRA_AGENT_GROUPS to existing group names (the bot needs Browse users and groups)",
                )
            )
        else:
            out.append(ok("jira agents", f"group {group!r} exists"))
    for account in config.jira_agent_accounts:
        try:
            client.user(account)
        except Exception as exc:  # noqa: BLE001
            out.append(
                fail(
                    "jira agents",
                    f"account {account!r}: {_why(exc)}",
                    "set JIRA_AGENT_ACCOUNTS to account ids (Cloud) or user names (Data Center)",
                )
            )
        else:
            out.append(ok("jira agents", f"account {account!r} exists"))
    return out
