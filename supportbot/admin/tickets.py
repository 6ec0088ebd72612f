"""Ticket pages: list and filter, failed creations with Retry, and the local backend's Reply."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from supportbot import config
from supportbot.admin.blueprint import bp
from supportbot.audit import record
from supportbot.extensions import db
from supportbot.jobs import outbox
from supportbot.jobs.dispatch import dispatch
from supportbot.models import Contact, Message, Note, Ticket
from supportbot.tickets import retry

PAGE = 50
STATES = {
    "open": Ticket.closed.is_(False),
    "closed": Ticket.closed.is_(True),
    "failed": Ticket.create_state == "failed",
    "all": sa.true(),
}
MAX_REPLY = 1600 * 4  # the pipeline splits longer texts into numbered parts; four is plenty


@bp.get("/tickets")
def tickets() -> str:
    """Tickets newest first, filtered by state; failed ones show their reason and Retry."""
    state = request.args.get("state", "open")
    if state not in STATES:
        state = "open"
    before = request.args.get("before", type=int)
    query = (
        sa.select(Ticket, Contact.phone)
        .join(Contact, Contact.id == Ticket.contact_id)
        .where(STATES[state])
        .order_by(Ticket.id.desc())
        .limit(PAGE)
    )
    if before is not None:
        query = query.where(Ticket.id < before)
    rows = db.session.execute(query).all()
    older = rows[-1][0].id if len(rows) == PAGE else None
    return render_template(
        "admin/tickets.html",
        rows=rows,
        state=state,
        states=list(STATES),
        older=older,
        jira_url=config.current().jira_url,
    )


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> str:
    """One ticket: its texts with delivery status, its notes, and (local backend) a reply box."""
    t = db.session.get(Ticket, ticket_id) or abort(404)
    contact = db.session.get(Contact, t.contact_id)
    messages = db.session.scalars(
        sa.select(Message).where(Message.ticket_id == t.id).order_by(Message.id.desc()).limit(200)
    ).all()
    notes = db.session.scalars(
        sa.select(Note).where(Note.ticket_id == t.id).order_by(Note.id.desc()).limit(200)
    ).all()
    return render_template(
        "admin/ticket.html",
        t=t,
        contact=contact,
        messages=list(reversed(messages)),
        notes=list(reversed(notes)),
        local=config.current().ticket_backend == "local",
        jira_url=config.current().jira_url,
        reply_id=uuid.uuid4().hex,
    )


@bp.post("/tickets/<int:ticket_id>/retry")
def ticket_retry(ticket_id: int) -> Response:
    """Put a failed creation back to work."""
    t = db.session.get(Ticket, ticket_id) or abort(404)
    done = retry.retry([t])
    record(current_user.email, "retry", t.ref, "retrying" if done else "nothing to retry")
    flash(f"Retrying {t.ref}." if done else f"{t.ref} has no failed creation to retry.", "info")
    back = request.form.get("back", "")
    if not back.startswith("/admin/") or "\\" in back:
        back = url_for("admin.tickets", state="failed")  # a path of the console only: never another site
    return redirect(back)


@bp.post("/tickets/<int:ticket_id>/reply")
def ticket_reply(ticket_id: int) -> Response | tuple[str, int]:
    """A local-backend agent reply: the same agent_reply job a Jira comment becomes."""
    if config.current().ticket_backend != "local":
        abort(404, description="replies go through Jira comments when Jira is set")
    t = db.session.get(Ticket, ticket_id) or abort(404)
    text = request.form.get("reply", "").strip()
    reply_id = request.form.get("reply_id", "")
    if not text or len(text) > MAX_REPLY:
        flash(f"A reply needs 1 to {MAX_REPLY} characters.", "error")
        return redirect(url_for("admin.ticket", ticket_id=t.id))
    if len(reply_id) != 32 or not all(c in "0123456789abcdef" for c in reply_id):
        abort(400, description="the form's reply id is missing or malformed")
    comment_id = f"admin-{reply_id}"
    with outbox.collecting() as work:
        try:
            # the note is the local help desk's comment; its unique key makes a resubmitted form a no-op
            db.session.add(Note(ticket_id=t.id, body=f"{current_user.email}: {text}", dedupe_key=comment_id))
            db.session.flush()
            outbox.add(
                "agent_reply",
                key=None,
                comment_id=comment_id,
                text=text,
                authors=[f"admin:{current_user.email}"],
                directed=False,
                ticket_id=t.id,
                # a signed-in admin of the console: the role was checked here, not Jira's groups
                console_user=current_user.email,
            )
            record(current_user.email, "reply", t.ref, f"{len(text)} characters", commit=False)
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            work.clear()
            flash("That reply was sent already.", "info")
            return redirect(url_for("admin.ticket", ticket_id=t.id))
    dispatch(work)
    flash("Reply queued: it goes through consent, rate limit and delivery like any agent reply.", "info")
    return redirect(url_for("admin.ticket", ticket_id=t.id))
