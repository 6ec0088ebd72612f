"""A Jira stand-in: the part of Jira's REST API that supportbot's jira client calls.

For tests and benchmarks; not installed with supportbot. In memory: the data and
its rules are in jira_state.py, this module is the HTTP around them. It can be told
(POST /_control) to answer 500 or 429 with Retry-After, to hang past the client's
timeout (after or before doing the work), to add latency, to lag in search, and to
succeed after N failures; it posts comment_created webhooks signed as Jira signs
them. GET /_state shows what it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import Any

import requests
from flask import Flask, Response, jsonify, request

from standins import jira_admin
from standins.jira_state import CONTROLS, EXTRA_CONTROLS, STATUSES, State, status_json
from supportbot.sandbox.controls import unknown_controls

FIELDS = ("summary", "description", "labels", "status", "project", "issuetype", "comment", "attachment")


def create_jira_standin(project: str = "SUP") -> Flask:  # noqa: C901 - small routes, one closure
    app = Flask("jira_standin")
    state = State(project)
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
                "status": status_json(issue["status"]),
                "project": {"key": issue.get("project", project)},
                "issuetype": {"name": issue["issuetype"]},
                "attachment": [{"filename": a} for a in issue["attachments"]],
            },
        }

    def comment_json(issue: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": c["id"],
            "self": f"{base()}/rest/api/2/issue/{issue['id']}/comment/{c['id']}",
            "body": c["body"],
            "author": {"accountId": c["author"], "displayName": c["author"]},
            "properties": c["properties"],
            **({"visibility": c["visibility"]} if c.get("visibility") else {}),
        }

    def not_found() -> tuple[Response, int]:
        return jsonify(
            {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        ), 404

    @app.before_request
    def faults() -> Response | None:
        if request.path.startswith("/_"):
            return None
        failing, hanging = state.before_call(request.method, request.path)
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
        if not request.path.startswith("/_") and state.hangs_after_work(request.method, request.path):
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
        return jsonify([{"id": n, "key": n, "name": n.title(), "custom": False} for n in FIELDS])

    @app.post("/rest/api/2/issue")
    def create_issue() -> tuple[Response, int]:
        issue = state.create_issue(request.get_json()["fields"])
        if issue is None:
            return jsonify({"errorMessages": [], "errors": {"project": "valid project is required"}}), 400
        self_url = f"{base()}/rest/api/2/issue/{issue['id']}"
        return jsonify({"id": issue["id"], "key": issue["key"], "self": self_url}), 201

    @app.get("/rest/api/2/issue/<key>")
    def get_issue(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        return jsonify(issue_json(issue)) if issue else not_found()

    def jql() -> str:
        return request.args.get("jql") or (request.get_json(silent=True) or {}).get("jql", "")

    @app.route("/rest/api/2/search/jql", methods=["GET", "POST"])
    def enhanced_search() -> Response:
        return jsonify({"issues": [issue_json(i) for i in state.search(jql())], "isLast": True})

    @app.route("/rest/api/2/search", methods=["GET", "POST"])
    def old_search() -> Response:
        issues = [issue_json(i) for i in state.search(jql())]
        return jsonify({"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues})

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
                "fields": {
                    "project": {"key": issue.get("project", project), "projectTypeKey": state.project_type()}
                },
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
            state.webhook_delivered(c["id"], status)

        threading.Thread(target=deliver, daemon=True).start()

    @app.post("/rest/api/2/issue/<key>/comment")
    def add_comment(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        if issue is None:
            return not_found()
        data = request.get_json()
        c = state.add_comment(
            issue,
            data.get("body", ""),
            author="supportbot",
            properties=data.get("properties", []),
            visibility=data.get("visibility"),
        )
        fire_comment_webhook(issue, c)
        return jsonify(comment_json(issue, c)), 201

    @app.post("/_issue")
    def foreign_issue() -> tuple[Response, int]:
        """An issue made in Jira's UI, in any project: {project, summary?}."""
        data = request.get_json()
        issue = state.create_foreign_issue(data["project"], data.get("summary", ""))
        return jsonify({"key": issue["key"]}), 201

    @app.get("/rest/api/2/myself")
    def myself() -> Response:
        return jsonify({"accountId": "supportbot", "name": "supportbot", "emailAddress": "bot@example.com"})

    @app.put("/rest/api/2/issue/<key>/comment/<comment_id>/properties/<prop>")
    def comment_property(key: str, comment_id: str, prop: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        if issue is None or not state.set_comment_property(issue, comment_id, prop, request.get_json()):
            return not_found()
        return Response(status=200)

    @app.post("/_agent_comment")
    def agent_comment() -> Response | tuple[Response, int]:
        """An agent comments in Jira's UI: {key, body, author?, jsdPublic?, visibility?}."""
        data = request.get_json()
        issue = state.find(data["key"])
        if issue is None:
            return not_found()
        extra = {"jsdPublic": data["jsdPublic"]} if "jsdPublic" in data else {}
        c = state.add_comment(
            issue,
            data["body"],
            author=data.get("author", "agent-alice"),
            visibility=data.get("visibility"),
            **extra,
        )
        fire_comment_webhook(issue, c)
        return jsonify({"id": c["id"]}), 201

    @app.get("/rest/api/2/issue/<key>/comment")
    def list_comments(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        if issue is None:
            return not_found()
        comments = [comment_json(issue, c) for c in issue["comments"]]
        return jsonify(
            {"startAt": 0, "maxResults": len(comments), "total": len(comments), "comments": comments}
        )

    @app.get("/rest/api/2/issue/<key>/transitions")
    def transitions(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        return jsonify({"transitions": state.transitions_for(issue)}) if issue else not_found()

    @app.post("/rest/api/2/issue/<key>/transitions")
    def do_transition(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        if issue is None:
            return not_found()
        if state.transition(issue, str(request.get_json()["transition"]["id"])):
            return Response(status=204)
        return jsonify(
            {"errorMessages": ["It seems that you have tried to perform an invalid transition."]}
        ), 400

    @app.post("/rest/api/2/issue/<key>/attachments")
    def attach(key: str) -> Response | tuple[Response, int]:
        issue = state.find(key)
        if issue is None:
            return not_found()
        names = [f.filename for f in request.files.getlist("file")]
        issue["attachments"].extend(names)
        return jsonify([{"filename": n} for n in names])

    @app.post("/_control")
    def control() -> Response:
        data = request.get_json()
        refused = unknown_controls(data, (*CONTROLS, *EXTRA_CONTROLS))
        if refused is not None:
            return refused
        state.control(data)
        return jsonify({"ok": True})

    @app.get("/_state")
    def dump() -> Response:
        return jsonify(state.dump())

    return app
