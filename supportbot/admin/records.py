"""Record pages: the consent ledger (verify, export) and the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request, stream_with_context
from flask_login import current_user
from werkzeug.wrappers import Response

from supportbot.admin.blueprint import bp
from supportbot.audit import ACTIONS, record
from supportbot.consent import export, ledger
from supportbot.extensions import db
from supportbot.models import AuditEntry, ConsentEvent
from supportbot.phone import normalise

PAGE = 100


def _ledger_page(number: str, before: int | None) -> tuple[list[ConsentEvent], int | None]:
    query = sa.select(ConsentEvent).order_by(ConsentEvent.id.desc()).limit(PAGE)
    if number:
        query = query.where(ConsentEvent.phone == number)
    if before is not None:
        query = query.where(ConsentEvent.id < before)
    rows = list(db.session.scalars(query))
    return rows, rows[-1].id if len(rows) == PAGE else None


def _consent_page(verified: str | None = None, broken: bool = False) -> str:
    raw = request.values.get("number", "").strip()[:64]
    number = normalise(raw) if raw else ""
    rows, older = _ledger_page(number, request.args.get("before", type=int))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent))
    return render_template(
        "admin/consent.html",
        rows=rows,
        older=older,
        number=number,
        raw=raw,
        total=total,
        verified=verified,
        broken=broken,
    )


@bp.get("/consent")
def consent() -> str:
    """The ledger, newest first, for one number or all."""
    return _consent_page()


@bp.post("/consent/verify")
def consent_verify() -> str:
    """Check the whole hash chain and the contacts' cached flags; say the result."""
    found = ledger.problems()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent))
    if found:
        result = "; ".join(found)
    else:
        result = f"Chain intact: {count} row{'' if count == 1 else 's'} verified."
    record(current_user.email, "verify", "consent ledger", result)
    return _consent_page(verified=result, broken=bool(found))


@bp.get("/consent/export.csv")
def consent_export() -> Response:
    """The ledger (or one number's part) as a CSV download; the export is audited."""
    raw = request.args.get("number", "").strip()[:64]
    number = normalise(raw) if raw else None
    record(current_user.email, "export", "consent ledger", f"number {number}" if number else "all rows")
    safe = "".join(c for c in number or "" if c.isalnum())
    name = f"consent-ledger-{safe}.csv" if safe else "consent-ledger.csv"
    return Response(
        stream_with_context(export.csv_lines(number)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/audit")
def audit() -> str:
    """Every admin action, newest first, filtered by action."""
    action = request.args.get("action", "")
    before = request.args.get("before", type=int)
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PAGE)
    if action in ACTIONS:
        query = query.where(AuditEntry.action == action)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(db.session.scalars(query))
    older = rows[-1].id if len(rows) == PAGE else None
    return render_template("admin/audit.html", rows=rows, older=older, action=action, actions=ACTIONS)
