"""Jira behind the Backend interface. The only module that imports the jira library.

It speaks Jira and returns values: no database, no transaction, no job state.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from supportbot import metrics
from supportbot.config import Settings
from supportbot.jobs.errors import PermanentError, RetryLater
from supportbot.tickets.desk import Created, NewIssue

log = logging.getLogger(__name__)

T = TypeVar("T")
# on a service desk this property makes a comment internal: supportbot's notes are
# for agents, never for the customer portal
INTERNAL = {"key": "sd.public.comment", "value": {"internal": True}}


def _reason(exc: JIRAError) -> str:
    text = (exc.text or "").strip().replace("\n", " ")
    return f"Jira answered {exc.status_code}: {text[:300] or exc.__class__.__name__}"


def classify(exc: JIRAError) -> Exception:
    """Map a Jira answer to what the job should do about it."""
    status = exc.status_code or 0
    if status == 429 or status >= 500:
        retry_after = None
        if exc.response is not None:
            try:
                retry_after = int(exc.response.headers.get("Retry-After", ""))
            except ValueError:
                retry_after = None
        return RetryLater(_reason(exc), retry_after, refused=status == 429)
    if status in (400, 401, 403, 404):
        # retrying cannot fix a bad project key, a missing permission or bad credentials
        return PermanentError("configuration: " + _reason(exc), refused=True)
    return RetryLater(_reason(exc), None, refused=0 < status < 500)


class JiraBackend:
    """Jira Cloud (email + API token) or Data Center (personal access token)."""

    def __init__(
        self,
        client: JIRA,
        project: str,
        issue_type: str,
        search_lag: float = 30.0,
        groups_ttl: float = 300.0,
    ):
        self.client = client
        self.project = project
        self.issue_type = issue_type
        self.search_lag = search_lag
        self.groups_ttl = groups_ttl
        self._own: set[str] | None = None
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}  # user -> (expires, groups)

    @classmethod
    def from_settings(cls, settings: Settings) -> JiraBackend:
        auth: dict[str, Any]
        if settings.jira_user:
            auth = {"basic_auth": (settings.jira_user, settings.jira_api_token or "")}
        else:
            auth = {"token_auth": settings.jira_api_token or ""}
        client = JIRA(
            server=settings.jira_url,
            timeout=settings.jira_timeout,
            # no serverInfo round trip per job: the settings say which Jira this is
            get_server_info=False,
            # the library would sleep inside the job on 429/503; RQ's retry waits instead
            max_retries=0,
            options={"check_update": False},
            **auth,
        )
        # email + token means Cloud (enhanced JQL search); a PAT alone means Data Center
        client.deploymentType = "Cloud" if settings.jira_user else "Server"
        return cls(
            client,
            settings.jira_project_key,
            settings.jira_issue_type,
            settings.jira_search_lag_seconds,
            settings.jira_agent_cache_seconds,
        )

    def _call(self, fn: Callable[..., T], *args: Any, operation: str | None = None, **kwargs: Any) -> T:
        with metrics.jira_call(operation or getattr(fn, "__name__", "call").lstrip("_")) as result:
            try:
                return fn(*args, **kwargs)
            except JIRAError as exc:
                status = exc.status_code or 0
                result["outcome"] = "throttled" if status == 429 else f"http_{status // 100}xx"
                raise classify(exc) from exc
            except requests.ReadTimeout as exc:
                result["outcome"] = "timeout"
                # the request went out: it may have been done. Callers that must not
                # repeat it look for its effect before trying again.
                raise RetryLater(
                    f"Jira timed out after the request was sent ({exc.__class__.__name__})", None
                ) from exc
            except requests.RequestException as exc:
                result["outcome"] = "unreachable"
                raise RetryLater(f"Jira unreachable ({exc.__class__.__name__})", None) from exc

    def _rest(
        self, method: str, path: str, body: object = None, params: Mapping[str, str] | None = None
    ) -> Any:
        """One REST call the jira library has no method for: comments with properties
        (JIRA.add_comment cannot set them), a comment's properties, and reading
        comments with expand=properties. It goes through the client's own session,
        so authentication and error handling stay the library's."""
        url = f"{self.client.server_url}/rest/api/2/{path}"
        data = None if body is None else json.dumps(body)
        operation = f"rest_{method.lower()}"
        resp = self._call(
            self.client._session.request, method, url, data=data, params=params, operation=operation
        )
        return resp.json() if resp.content else None

    def find(self, label: str) -> Created | None:
        jql = f'project = "{self.project}" AND labels = "{label}"'
        found = self._call(self.client.search_issues, jql, maxResults=1, fields="status", json_result=True)
        issues: list[dict[str, Any]] = found.get("issues", []) if isinstance(found, dict) else []
        if not issues:
            return None
        return Created(issues[0]["key"], _status_name(issues[0]))

    def create(self, issue: NewIssue) -> Created:
        fields = {
            "project": {"key": self.project},
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": {"name": self.issue_type},
            "labels": list(issue.labels),
        }
        made = self._call(self.client.create_issue, fields=fields, prefetch=False)
        for name, content in issue.attachments:
            self._call(self.client.add_attachment, made.key, io.BytesIO(content), name)
        return Created(made.key, "Open")

    def comment(self, key: str | None, body: str, dedupe: str, look_first: bool) -> str | None:
        posted = self._find_comment(key, dedupe) if look_first else None
        if posted is not None:
            return posted
        data = {"body": body, "properties": [{"key": "supportbot", "value": {"dedupe": dedupe}}, INTERNAL]}
        return str(self._rest("POST", f"issue/{key}/comment", data)["id"])

    def _find_comment(self, key: str | None, dedupe: str) -> str | None:
        # a retry after a timeout or a killed worker: the comment may be there already
        data = self._rest("GET", f"issue/{key}/comment", params={"expand": "properties"})
        for c in data.get("comments", []):
            for p in c.get("properties", []):
                if p.get("key") == "supportbot" and (p.get("value") or {}).get("dedupe") == dedupe:
                    return str(c["id"])
        return None

    def own_ids(self) -> set[str]:
        """Who supportbot is in Jira (asked once per process)."""
        if self._own is None:
            me = self._call(self.client.myself)
            self._own = {str(me[k]) for k in ("accountId", "name", "key", "emailAddress") if me.get(k)}
        return self._own

    def groups_of(self, user: str) -> frozenset[str]:
        """The user's Jira groups, remembered for groups_ttl seconds; a user Jira does not
        know has none. Any other failure raises (the job retries)."""
        now = time.monotonic()
        cached = self._groups.get(user)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            found = self._call(self.client.user, user, expand="groups")
        except PermanentError as exc:
            if getattr(exc.__cause__, "status_code", None) != 404:
                raise
            groups: frozenset[str] = frozenset()
        else:
            items = (found.raw.get("groups") or {}).get("items") or []
            groups = frozenset(str(g.get("name")) for g in items if isinstance(g, dict) and g.get("name"))
        self._groups[user] = (now + self.groups_ttl, groups)
        return groups

    def mark_delivered(self, key: str | None, comment_id: str, info: dict[str, object]) -> None:
        self._rest("PUT", f"issue/{key}/comment/{comment_id}/properties/supportbot.delivery", info)

    def transition(self, key: str | None, name: str) -> str | None:
        wanted = name.strip().lower()
        available = self._call(self.client.transitions, key)
        for t in available:
            to = (t.get("to") or {}).get("name", "")
            if wanted in (t["name"].lower(), to.lower()):
                self._call(self.client.transition_issue, key, t["id"])
                return str(to or t["name"])
        log.info("issue %s: no transition %r from its current status", key, name)
        return None


def _status_name(issue: Mapping[str, Any]) -> str:
    return str(((issue.get("fields") or {}).get("status") or {}).get("name") or "Open")
