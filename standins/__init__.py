"""Stand-ins for tests and benchmarks: Jira, served apps, worker and Redis processes.

Not part of the installed product (setuptools includes only supportbot*). The
Twilio sandbox stays in supportbot.sandbox because development sends to it.
"""

from __future__ import annotations

from standins.jira_routes import create_jira_standin
from standins.processes import BIN, ROOT, Gunicorn, Process, RedisServer, Worker, env_for
from standins.servers import JiraStandin, Sandbox, ServedApp, free_port, wait_until

__all__ = [
    "BIN",
    "Gunicorn",
    "Process",
    "ROOT",
    "JiraStandin",
    "RedisServer",
    "Sandbox",
    "ServedApp",
    "Worker",
    "create_jira_standin",
    "env_for",
    "free_port",
    "wait_until",
]
