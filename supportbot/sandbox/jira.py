"""A Jira stand-in: the part of Jira's REST API that supportbot's jira client calls.

Stateful and in memory, for tests, benchmarks and development. It can be told
(POST /_control) to answer 500 or 429 with Retry-After, to hang past the
client's timeout (after or before doing the work), to add latency, and to
succeed after N failures. GET /_state shows what it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from typing import Any

import requests
from flask import Flask, Response, jsonify, request

from supportbot.sandbox import apply_controls, jira_admin, unknown_controls

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
LABEL_JQL = re.compile(r'labels\s*=\s*"?([\w.-]+)"?')


class State:
    def __init__(self) -> None:
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


def _status(name: str) -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": STATUSES[name]}}


def create_jira_standin(project: str = "SUP") -> Flask:  # noqa: C901 - small routes, one closure
    app = Flask("jira_standin")
    state = State()
    app.extensions["jira_state"] = state
    jira_admin.install(app, project, list(STATUSES))  # what doctor reads: project, groups, users

    def base() -> str:
        return request.host_url.rstrip("/")

    def issue_json(issue: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{base()}/rest/api/2/issue/{issue['id']}",
            "fields": {
                "summary": issue["summary"],
                "description": issue["description"],
                "labels": issue["labels"],
                "status": _status(issue["status"]),
                "project": {"key": project},
                "issuetype": {"name": issue["issuetype"]},
                "attachment": [{"filename": a} for a in issue["attachments"]],
            },
        }

    def fault_applies() -> bool:
        where = f"{request.method} {request.path}"
        return not state.fail_paths or state.fail_paths in where

    @app.before_request
    def faults() -> Response | None:
        if request.path.startswith("/_"):
            return None
        with state.lock:
            state.calls.append((request.method, request.path))
            failing = state.fail_status and state.fail_count != 0 and fault_applies()
            if failing and state.fail_count > 0:
                state.fail_count -= 1
            hanging = state.hang and state.hang_count != 0 and fault_applies() and not state.hang_after_work
            if hanging and state.hang_count > 0:
                state.hang_count -= 1
        if state.latency:
            time.sleep(state.latency)
        if hanging:
            time.sleep(state.hang)
        if failing:
            headers = {"Retry-After": str(state.retry_after)} if state.fail_status == 429 else {}
            body = {"errorMessages": [f"stand-in fault {state.fail_status}"], "errors": {}}
            return Response(
                jsonify(body).get_data(),
                status=state.fail_status,
                headers=headers,
                mimetype="application/json",
            )
        return None

    @app.after_request
    def hang_after(resp: Response) -> Response:
        if request.path.startswith("/_") or not state.hang_after_work:
            return resp
        with state.lock:
            hanging = state.hang and state.hang_count != 0 and fault_applies()
            if hanging and state.hang_count > 0:
                state.hang_count -= 1
        if hanging:
            time.sleep(state.hang)
        return resp

    @app.get("/rest/api/2/serverInfo")
    def server_info() -> Response:
        return jsonify(
            {
                "baseUrl": base(),
                "version": "1001.0.0",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
            }
        )

    @app.get("/rest/api/2/field")
    def fields() -> Response:
        names = (
            "summary",
            "description",
            "labels",
            "status",
            "project",
            "issuetype",
            "comment",
            "attachment",
        )
        return jsonify([{"id": n, "key": n, "name": n.title(), "custom": False} for n in names])

    @app.post("/rest/api/2/issue")
    def create_issue() -> tuple[Response, int]:
        fields = request.get_json()["fields"]
        if fields.get("project", {}).get("key") != project:
            return jsonify({"errorMessages": [], "errors": {"project": "valid project is required"}}), 400
        with state.lock:
            state.counter += 1
            key = f"{project}-{state.counter}"
            state.issues[key] = {
                "id": str(10000 + state.counter),
                "key": key,
                "summary": fields.get("summary", ""),
                "description": fields.get("description", ""),
                "labels": list(fields.get("labels", [])),
                "issuetype": fields.get("issuetype", {}).get("name", "Task"),
                "status": "To Do",
                "comments": [],
                "attachments": [],
                "created_at": time.time(),
            }
            issue = state.issues[key]
        return jsonify(
            {"id": issue["id"], "key": key, "self": f"{base()}/rest/api/2/issue/{issue['id']}"}
        ), 201

    def find(key_or_id: str) -> dict[str, Any] | None:
        issue = state.issues.get(key_or_id)
        if issue is None:
            issue = next((i for i in state.issues.values() if i["id"] == key_or_id), None)
        return issue

    def not_found() -> tuple[Response, int]:
        return jsonify(
            {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        ), 404

    @app.get("/rest/api/2/issue/<key>")
    def get_issue(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        return jsonify(issue_json(issue)) if issue else not_found()

    def search(jql: str) -> list[dict[str, Any]]:
        m = LABEL_JQL.search(jql or "")
        visible_before = time.time() - state.search_lag
        with state.lock:
            found = [
                i
                for i in state.issues.values()
                if (m is None or m.group(1) in i["labels"]) and i["created_at"] <= visible_before
            ]
        return [issue_json(i) for i in found]

    @app.route("/rest/api/2/search/jql", methods=["GET", "POST"])
    def enhanced_search() -> Response:
        jql = request.args.get("jql") or (request.get_json(silent=True) or {}).get("jql", "")
        return jsonify({"issues": search(jql), "isLast": True})

    @app.route("/rest/api/2/search", methods=["GET", "POST"])
    def old_search() -> Response:
        jql = request.args.get("jql") or (request.get_json(silent=True) or {}).get("jql", "")
        issues = search(jql)
        return jsonify({"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues})

    def comment_json(issue: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "self": f"{base()}/rest/api/2/issue/{issue['id']}/comment/{c['id']}",
            "body": c["body"],
            "author": {"accountId": c["author"], "displayName": c["author"]},
            "properties": c["properties"],
            **({"visibility": c["visibility"]} if c.get("visibility") else {}),
        }

    @app.post("/rest/api/2/issue/<key>/comment")
    def add_comment(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        if issue is None:
            return not_found()
        data = request.get_json()
        with state.lock:
            state.comment_counter += 1
            c = {
                "id": str(state.comment_counter),
                "body": data.get("body", ""),
                "author": "supportbot",
                "properties": data.get("properties", []),
                "visibility": data.get("visibility"),
            }
            issue["comments"].append(c)
        fire_comment_webhook(issue, c)
        return jsonify(comment_json(issue, c)), 201

    def fire_comment_webhook(issue: dict[str, Any], c: dict[str, Any]) -> None:
        """Post comment_created to the configured webhook, signed like Jira, from a thread."""
        if not state.webhook_url:
            return
        payload = {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "comment_created",
            "issue": {
                "id": issue["id"],
                "key": issue["key"],
                "fields": {"project": {"key": project, "projectTypeKey": state_project_type()}},
            },
            "comment": {
                **comment_json(issue, c),
                **({"jsdPublic": c["jsdPublic"]} if "jsdPublic" in c else {}),
            },
        }
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            "X-Hub-Signature": "sha256="
            + hmac.new(state.webhook_secret.encode(), body, hashlib.sha256).hexdigest(),
        }
        url = state.webhook_url

        def deliver() -> None:
            try:
                status = requests.post(url, data=body, headers=headers, timeout=10).status_code
            except requests.RequestException:
                status = 0
            with state.lock:
                state.webhooks_sent.append({"comment_id": c["id"], "status": status})

        threading.Thread(target=deliver, daemon=True).start()

    def state_project_type() -> str:
        return "service_desk" if state.service_desk else "software"

    @app.get("/rest/api/2/myself")
    def myself() -> Response:
        return jsonify({"accountId": "supportbot", "name": "supportbot", "emailAddress": "bot@example.com"})

    @app.put("/rest/api/2/issue/<key>/comment/<comment_id>/properties/<prop>")
    def comment_property(key: str, comment_id: str, prop: str) -> Response | tuple[Response, int]:
        issue = find(key)
        found = next((c for c in issue["comments"] if c["id"] == comment_id), None) if issue else None
        if found is None:
            return not_found()
        with state.lock:
            found["properties"] = [p for p in found["properties"] if p["key"] != prop]
            found["properties"].append({"key": prop, "value": request.get_json()})
        return Response(status=200)

    @app.post("/_agent_comment")
    def agent_comment() -> Response | tuple[Response, int]:
        """An agent comments in Jira's UI: {key, body, author?, jsdPublic?, visibility?}."""
        data = request.get_json()
        issue = find(data["key"])
        if issue is None:
            return not_found()
        with state.lock:
            state.comment_counter += 1
            c = {
                "id": str(state.comment_counter),
                "body": data["body"],
                "author": data.get("author", "agent-alice"),
                "properties": [],
                "visibility": data.get("visibility"),
            }
            if "jsdPublic" in data:
                c["jsdPublic"] = data["jsdPublic"]
            issue["comments"].append(c)
        fire_comment_webhook(issue, c)
        return jsonify({"id": c["id"]}), 201

    @app.get("/rest/api/2/issue/<key>/comment")
    def list_comments(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        if issue is None:
            return not_found()
        comments = [comment_json(issue, c) for c in issue["comments"]]
        return jsonify(
            {"startAt": 0, "maxResults": len(comments), "total": len(comments), "comments": comments}
        )

    @app.get("/rest/api/2/issue/<key>/transitions")
    def transitions(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        if issue is None:
            return not_found()
        allowed = [
            {"id": tid, "name": name, "to": _status(to)}
            for name, tid, frm, to in TRANSITIONS
            if issue["status"] in frm
        ]
        return jsonify({"transitions": allowed})

    @app.post("/rest/api/2/issue/<key>/transitions")
    def do_transition(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        if issue is None:
            return not_found()
        tid = str(request.get_json()["transition"]["id"])
        for _, t, frm, to in TRANSITIONS:
            if t == tid and issue["status"] in frm:
                issue["status"] = to
                return Response(status=204)
        return jsonify(
            {"errorMessages": ["It seems that you have tried to perform an invalid transition."]}
        ), 400

    @app.post("/rest/api/2/issue/<key>/attachments")
    def attach(key: str) -> Response | tuple[Response, int]:
        issue = find(key)
        if issue is None:
            return not_found()
        names = [f.filename for f in request.files.getlist("file")]
        issue["attachments"].extend(names)
        return jsonify([{"filename": n} for n in names])

    @app.post("/_control")
    def control() -> Response:
        data = request.get_json()
        extra = (
            "reset_faults",
            "hang_after_work",
            "hang_count",
            "status",
            "webhook_url",
            "webhook_secret",
            "service_desk",
        )
        refused = unknown_controls(data, (*CONTROLS, *extra))
        if refused is not None:
            return refused
        with state.lock:
            if data.get("reset_faults"):
                state.reset_faults()
            apply_controls(state, data, CONTROLS)
            if "hang_after_work" in data:
                state.hang_after_work = bool(data["hang_after_work"])
            if "webhook_url" in data:
                state.webhook_url, state.webhook_secret = data["webhook_url"], data.get("webhook_secret", "")
            if "service_desk" in data:
                state.service_desk = bool(data["service_desk"])
            if "hang_count" in data:
                state.hang_count = data["hang_count"]
            if "status" in data:  # {"status": {"SUP-1": "Done"}}: an agent moves an issue
                for key, status in data["status"].items():
                    state.issues[key]["status"] = status
        return jsonify({"ok": True})

    @app.get("/_state")
    def dump() -> Response:
        with state.lock:
            return jsonify(
                {
                    "issues": {
                        k: {**v, "comments": [dict(c) for c in v["comments"]]}
                        for k, v in state.issues.items()
                    },
                    "calls": state.calls[-500:],
                    "webhooks": list(state.webhooks_sent),
                }
            )

    return app
