"""The Jira stand-in's project setup: what `flask doctor` reads through the jira client.

Projects (with issue types), a project's workflow statuses, group members and users,
and a switch that refuses every credential. POST /_control/admin changes them:

    {"refuse_auth": true}
    {"project": "OPS"}                      # the only project that exists
    {"issue_types": ["Task", "Bug"]}
    {"groups": {"support-agents": ["agent-alice"]}}
    {"users": ["agent-alice", "agent-bob"]}
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response, jsonify, request

from supportbot.sandbox.controls import unknown_controls

CONTROLS = ("refuse_auth", "project", "issue_types", "groups", "users")


class Admin:
    def __init__(self, project: str, statuses: list[str]):
        self.lock = threading.Lock()
        self.refuse_auth = False
        self.project = project
        self.issue_types = ["Task", "Bug"]
        self.statuses = statuses
        # an agent, a service-desk portal customer, and the bot itself
        self.groups: dict[str, list[str]] = {
            "support-agents": ["agent-alice"],
            "jira-software-users": ["agent-alice", "supportbot"],
            "jira-servicedesk-customers": ["customer-carol"],
        }
        self.users = ["agent-alice", "supportbot", "customer-carol"]


def _error(status: int, message: str) -> Response:
    return Response(
        jsonify({"errorMessages": [message], "errors": {}}).get_data(),
        status=status,
        mimetype="application/json",
    )


def install(app: Flask, project: str, statuses: list[str]) -> None:  # noqa: C901 - small routes, one closure
    admin = Admin(project, statuses)
    app.extensions["jira_admin"] = admin

    @app.before_request
    def credentials() -> Response | None:
        if admin.refuse_auth and request.path.startswith("/rest/"):
            return _error(401, "Client must be authenticated to access this resource.")
        return None

    def user_json(name: str) -> dict[str, Any]:
        return {"accountId": name, "name": name, "key": name, "displayName": name.title(), "active": True}

    @app.get("/rest/api/2/project/<key>")
    def project_view(key: str) -> Response:
        with admin.lock:
            if key != admin.project:
                return _error(404, f"No project could be found with key '{key}'.")
            types = [
                {"id": str(10001 + i), "name": n, "subtask": False} for i, n in enumerate(admin.issue_types)
            ]
        return jsonify(
            {
                "id": "10000",
                "key": key,
                "name": f"{key} support",
                "self": f"{request.host_url}rest/api/2/project/10000",
                "issueTypes": types,
            }
        )

    @app.get("/rest/api/2/project/<key>/statuses")
    def project_statuses(key: str) -> Response:
        with admin.lock:
            if key != admin.project:
                return _error(404, f"No project could be found with key '{key}'.")
            statuses = [{"id": str(i + 1), "name": s} for i, s in enumerate(admin.statuses)]
            body = [
                {"id": str(10001 + i), "name": n, "subtask": False, "statuses": statuses}
                for i, n in enumerate(admin.issue_types)
            ]
        return jsonify(body)

    @app.get("/rest/api/2/group/member")
    def group_member() -> Response:
        name = request.args.get("groupname", "")
        with admin.lock:
            if name not in admin.groups:
                return _error(404, f"Group with name '{name}' does not exist.")
            members = [user_json(u) for u in admin.groups[name]]
        return jsonify(
            {"isLast": True, "maxResults": 50, "startAt": 0, "total": len(members), "values": members}
        )

    @app.get("/rest/api/2/user")
    def user_view() -> Response:
        """A user by accountId (Cloud), username or key (Data Center); expand=groups lists them."""
        wanted = (
            request.args.get("accountId") or request.args.get("username") or request.args.get("key") or ""
        )
        with admin.lock:
            if wanted not in admin.users:
                return _error(404, f"The user named '{wanted}' does not exist.")
            body = user_json(wanted)
            if "groups" in request.args.get("expand", ""):
                groups = [{"name": g} for g, members in admin.groups.items() if wanted in members]
                body["groups"] = {"size": len(groups), "items": groups}
        return jsonify(body)

    @app.post("/_control/admin")
    def control_admin() -> Response:
        data = request.get_json()
        refused = unknown_controls(data, CONTROLS)
        if refused is not None:
            return refused
        with admin.lock:
            for name in CONTROLS:
                if name in data:
                    setattr(admin, name, data[name])
        return jsonify({"ok": True})
