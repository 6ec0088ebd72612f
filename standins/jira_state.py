"""The Jira stand-in's data and rules: issues, comments, transitions, search lag, faults.

No Flask here: jira_routes.py turns HTTP into these calls and these answers into JSON.
Every method that reads or changes the data takes the lock itself, because the
stand-in is served from many threads at once.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from supportbot.sandbox.controls import apply_controls

STATUSES = {
    "To Do": "new",
    "In Progress": "indeterminate",
    "Done": "done",
}
# (name, id, from statuses, to status)
TRANSITIONS = [
    ("Start Progress", "21", ("To Do",), "In Progress"),
    ("In Progress", "22", ("To Do",), "In Progress"),
    ("Done", "31", ("To Do", "In Progress"), "Done"),
    ("Reopen", "41", ("Done",), "To Do"),
]
CONTROLS = ("latency", "fail_status", "fail_count", "fail_paths", "retry_after", "hang", "search_lag")
EXTRA_CONTROLS = (
    "reset_faults",
    "hang_after_work",
    "hang_count",
    "status",
    "webhook_url",
    "webhook_secret",
    "service_desk",
)
LABEL_JQL = re.compile(r'labels\s*=\s*"?([\w.-]+)"?')


def status_json(name: str) -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": STATUSES[name]}}


class State:
    """Everything the stand-in holds, and what POST /_control may change."""

    def __init__(self, project: str = "SUP") -> None:
        self.project = project
        self.lock = threading.Lock()
        self.issues: dict[str, dict[str, Any]] = {}
        self.counter = 0
        self.comment_counter = 10000
        self.calls: list[tuple[str, str]] = []
        self.webhook_url: str | None = None
        self.webhook_secret = ""
        self.service_desk = False
        self.webhooks_sent: list[dict[str, Any]] = []
        self.reset_faults()

    def reset_faults(self) -> None:
        self.latency = 0.0
        self.fail_status = 0  # 500, 429, ...
        self.fail_count = 0  # how many calls fail; -1 for all
        self.fail_paths = ""  # substring of "METHOD path" the faults apply to
        self.retry_after = 1
        self.hang = 0.0  # seconds to hang before answering
        self.hang_after_work = True  # the work is done, then the answer hangs
        self.hang_count = 0
        self.search_lag = 0.0  # seconds before a new issue shows in JQL search, as in Jira Cloud

    # faults: decided per call, under the lock, so that counted faults hit exactly N calls

    def _fault_applies(self, method: str, path: str) -> bool:
        return not self.fail_paths or self.fail_paths in f"{method} {path}"

    def before_call(self, method: str, path: str) -> tuple[bool, bool]:
        """Record a call; say whether it fails now and whether it hangs before the work."""
        with self.lock:
            self.calls.append((method, path))
            applies = self._fault_applies(method, path)
            failing = bool(self.fail_status and self.fail_count != 0 and applies)
            if failing and self.fail_count > 0:
                self.fail_count -= 1
            hanging = bool(self.hang and self.hang_count != 0 and applies and not self.hang_after_work)
            if hanging and self.hang_count > 0:
                self.hang_count -= 1
        return failing, hanging

    def hangs_after_work(self, method: str, path: str) -> bool:
        with self.lock:
            if not self.hang_after_work:
                return False
            hanging = bool(self.hang and self.hang_count != 0 and self._fault_applies(method, path))
            if hanging and self.hang_count > 0:
                self.hang_count -= 1
        return hanging

    def control(self, data: dict[str, Any]) -> None:
        """Apply POST /_control (names already checked by the route)."""
        with self.lock:
            if data.get("reset_faults"):
                self.reset_faults()
            apply_controls(self, data, CONTROLS)
            if "hang_after_work" in data:
                self.hang_after_work = bool(data["hang_after_work"])
            if "webhook_url" in data:
                self.webhook_url, self.webhook_secret = data["webhook_url"], data.get("webhook_secret", "")
            if "service_desk" in data:
                self.service_desk = bool(data["service_desk"])
            if "hang_count" in data:
                self.hang_count = data["hang_count"]
            if "status" in data:  # {"status": {"SUP-1": "Done"}}: an agent moves an issue
                for key, status in data["status"].items():
                    self.issues[key]["status"] = status

    # issues

    def create_issue(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        """A new issue through the API, or None when the project is not ours (Jira answers 400)."""
        if fields.get("project", {}).get("key") != self.project:
            return None
        return self._add_issue(self.project, fields)

    def create_foreign_issue(self, project: str, summary: str = "") -> dict[str, Any]:
        """An issue made in Jira's UI, in any project (the bot never creates these)."""
        return self._add_issue(project, {"summary": summary})

    def _add_issue(self, project: str, fields: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.counter += 1
            key = f"{project}-{self.counter}"
            self.issues[key] = {
                "id": str(10000 + self.counter),
                "key": key,
                "project": project,
                "summary": fields.get("summary", ""),
                "description": fields.get("description", ""),
                "labels": list(fields.get("labels", [])),
                "issuetype": fields.get("issuetype", {}).get("name", "Task"),
                "status": "To Do",
                "comments": [],
                "attachments": [],
                "created_at": time.time(),
            }
            return self.issues[key]

    def find(self, key_or_id: str) -> dict[str, Any] | None:
        issue = self.issues.get(key_or_id)
        if issue is None:
            issue = next((i for i in self.issues.values() if i["id"] == key_or_id), None)
        return issue

    def search(self, jql: str) -> list[dict[str, Any]]:
        """Issues with the label the JQL names, hiding those younger than the search lag."""
        m = LABEL_JQL.search(jql or "")
        visible_before = time.time() - self.search_lag
        with self.lock:
            return [
                i
                for i in self.issues.values()
                if (m is None or m.group(1) in i["labels"]) and i["created_at"] <= visible_before
            ]

    def project_type(self) -> str:
        return "service_desk" if self.service_desk else "software"

    # comments

    def add_comment(
        self,
        issue: dict[str, Any],
        body: Any,
        author: str,
        properties: list[dict[str, Any]] | None = None,
        visibility: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        with self.lock:
            self.comment_counter += 1
            c = {
                "id": str(self.comment_counter),
                "body": body,
                "author": author,
                "properties": properties or [],
                "visibility": visibility,
                **extra,
            }
            # as Jira Service Management: this property makes a comment internal
            for prop in c["properties"]:
                if prop.get("key") == "sd.public.comment" and (prop.get("value") or {}).get("internal"):
                    c["jsdPublic"] = False
            issue["comments"].append(c)
        return c

    def set_comment_property(self, issue: dict[str, Any], comment_id: str, prop: str, value: Any) -> bool:
        found = next((c for c in issue["comments"] if c["id"] == comment_id), None)
        if found is None:
            return False
        with self.lock:
            found["properties"] = [p for p in found["properties"] if p["key"] != prop]
            found["properties"].append({"key": prop, "value": value})
        return True

    def webhook_delivered(self, comment_id: str, status: int) -> None:
        with self.lock:
            self.webhooks_sent.append({"comment_id": comment_id, "status": status})

    # workflow

    @staticmethod
    def transitions_for(issue: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"id": tid, "name": name, "to": status_json(to)}
            for name, tid, frm, to in TRANSITIONS
            if issue["status"] in frm
        ]

    @staticmethod
    def transition(issue: dict[str, Any], transition_id: str) -> bool:
        """Move the issue along; False when the workflow offers no such step from here."""
        for _, t, frm, to in TRANSITIONS:
            if t == transition_id and issue["status"] in frm:
                issue["status"] = to
                return True
        return False

    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "issues": {
                    k: {**v, "comments": [dict(c) for c in v["comments"]]} for k, v in self.issues.items()
                },
                "calls": self.calls[-500:],
                "webhooks": list(self.webhooks_sent),
            }
