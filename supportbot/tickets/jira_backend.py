"""Jira behind the Backend interface. The only module that imports the jira library."""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
import sqlalchemy as sa
from jira import JIRA, JIRAError

from supportbot import metrics
from supportbot.extensions import db
from supportbot.jobs.tasks import PermanentError, RetryLater, is_retry
from supportbot.models import Note, Ticket, as_utc
from supportbot.tickets.backends import Created, NewIssue

log = logging.getLogger(__name__)


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
        return RetryLater(_reason(exc), retry_after)
    if status in (400, 401, 403, 404):
        # retrying cannot fix a bad project key, a missing permission or bad credentials
        return PermanentError("configuration: " + _reason(exc))
    return RetryLater(_reason(exc), None)


class JiraBackend:
    """Jira Cloud (email + API token) or Data Center (personal access token)."""

    def __init__(self, client: JIRA, project: str, issue_type: str, search_lag: float = 30.0):
        self.client = client
        self.project = project
        self.issue_type = issue_type
        self.search_lag = search_lag
        self._own: set[str] | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JiraBackend:
        auth: dict[str, Any]
        if config["JIRA_USER"]:
            auth = {"basic_auth": (config["JIRA_USER"], config["JIRA_API_TOKEN"] or "")}
        else:
            auth = {"token_auth": config["JIRA_API_TOKEN"] or ""}
        client = JIRA(
            server=config["JIRA_URL"],
            timeout=config["JIRA_TIMEOUT"],
            # no serverInfo round trip per job: the settings say which Jira this is
            get_server_info=False,
            # the library would sleep inside the job on 429/503; RQ's retry waits instead
            max_retries=0,
            options={"check_update": False},
            **auth,
        )
        # email + token means Cloud (enhanced JQL search); a PAT alone means Data Center
        client.deploymentType = "Cloud" if config["JIRA_USER"] else "Server"
        return cls(
            client, config["JIRA_PROJECT_KEY"], config["JIRA_ISSUE_TYPE"], config["JIRA_SEARCH_LAG_SECONDS"]
        )

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with metrics.jira_call(getattr(fn, "__name__", "call").lstrip("_")) as result:
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

    def find(self, label: str) -> dict[str, Any] | None:
        jql = f'project = "{self.project}" AND labels = "{label}"'
        found = self._call(self.client.search_issues, jql, maxResults=1, fields="status", json_result=True)
        issues = found.get("issues", [])
        return issues[0] if issues else None

    def create(self, issue: NewIssue) -> Created:
        # a first attempt creates at once; a later one first looks for what an
        # earlier attempt may have made (timed out, or its worker was killed)
        if is_retry():
            existing = self.find(issue.labels[-1])
            if existing is not None:
                log.info("ticket %s: found the issue %s an earlier attempt made", issue.ref, existing["key"])
                return Created(existing["key"], _status_name(existing))
            self._wait_for_search_index(issue.ticket_id)
        fields = {
            "project": {"key": self.project},
            "summary": issue.summary,
            "description": issue.description,
            "issuetype": {"name": self.issue_type},
            "labels": list(issue.labels),
        }
        self._mark_sent(issue.ticket_id, datetime.now(UTC))
        try:
            made = self._call(self.client.create_issue, fields=fields, prefetch=False)
        except (PermanentError, RetryLater) as exc:
            status = getattr(exc.__cause__, "status_code", None)
            if status is not None and status < 500:
                self._mark_sent(issue.ticket_id, None)  # Jira answered, and made nothing
            raise
        for name, content in issue.attachments:
            self._call(self.client.add_attachment, made.key, io.BytesIO(content), name)
        return Created(made.key, "Open")

    def _mark_sent(self, ticket_id: int, when: datetime | None) -> None:
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(create_sent_at=when))
        db.session.commit()

    def _wait_for_search_index(self, ticket_id: int) -> None:
        """Jira's JQL search is eventually consistent: an issue made a moment ago may not
        be found yet. Create again only once the earlier request is older than the lag."""
        sent = db.session.scalar(sa.select(Ticket.create_sent_at).where(Ticket.id == ticket_id))
        db.session.rollback()
        if sent is None:
            return
        waited = (datetime.now(UTC) - as_utc(sent)).total_seconds()
        if waited < self.search_lag:
            remaining = max(1, math.ceil(self.search_lag - waited))
            raise RetryLater(
                f"not found by search yet; Jira's index may lag (waiting {remaining}s)", remaining
            )

    def comment(self, ticket_id: int | None, key: str | None, body: str, dedupe: str) -> None:
        """Once per dedupe key: recorded here, and marked on the comment for a retry to find."""
        if db.session.scalar(sa.select(Note.id).where(Note.dedupe_key == dedupe)) is not None:
            db.session.rollback()
            return
        db.session.rollback()
        posted = self._find_comment(key, dedupe) if is_retry() else None
        if posted is None:
            posted = self._call(self._post_comment, key, body, dedupe)
        db.session.add(Note(ticket_id=ticket_id, body=body, dedupe_key=dedupe, remote_id=str(posted)))

    def _post_comment(self, key: str | None, body: str, dedupe: str) -> str:
        # JIRA.add_comment cannot set comment properties; the REST API takes them on
        # create, so post through the client's own session (its auth, its errors)
        data = {"body": body, "properties": [{"key": "supportbot", "value": {"dedupe": dedupe}}]}
        resp = self.client._session.post(self.client._get_url(f"issue/{key}/comment"), data=json.dumps(data))
        return str(resp.json()["id"])

    def _find_comment(self, key: str | None, dedupe: str) -> str | None:
        # a retry after a timeout or a killed worker: the comment may be there already
        data = self._call(self.client._get_json, f"issue/{key}/comment", params={"expand": "properties"})
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

    def mark_delivered(self, key: str | None, comment_id: str, info: dict) -> None:
        # no jira-library call sets a comment property; the REST API does, so use its session
        url = self.client._get_url(f"issue/{key}/comment/{comment_id}/properties/supportbot.delivery")
        self._call(self.client._session.put, url, data=json.dumps(info))

    def transition(self, key: str | None, name: str) -> str | None:
        wanted = name.strip().lower()
        available = self._call(self.client.transitions, key)
        for t in available:
            to = (t.get("to") or {}).get("name", "")
            if wanted in (t["name"].lower(), to.lower()):
                self._call(self.client.transition_issue, key, t["id"])
                return to or t["name"]
        log.info("issue %s: no transition %r from its current status", key, name)
        return None


def _status_name(issue: Mapping[str, Any]) -> str:
    return ((issue.get("fields") or {}).get("status") or {}).get("name") or "Open"
