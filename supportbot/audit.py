"""The audit log: who did what in the admin console or the CLI, and when. Append-only."""

from __future__ import annotations

import getpass

from flask import has_request_context, request

from supportbot.extensions import db
from supportbot.models import AuditEntry

# the actions the log knows; the audit page filters on them
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "publish",
    "rollback",
    "export",
    "retry",
    "reply",
    "verify",
    "create_user",
)


def record(actor: str, action: str, target: str = "", detail: str = "", commit: bool = True) -> None:
    """Append one entry; with commit=False it joins the caller's transaction."""
    address = request.remote_addr if has_request_context() else None
    db.session.add(
        AuditEntry(
            actor=actor[:255], action=action, target=target[:255], detail=detail[:2000], address=address
        )
    )
    if commit:
        db.session.commit()


def cli_actor() -> str:
    """Who ran a command: the login name, as the audit log's actor."""
    return f"cli:{getpass.getuser()}"
