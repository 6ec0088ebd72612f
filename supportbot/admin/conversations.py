"""Conversation pages: find a contact, read the thread with delivery, consent and tickets."""

from __future__ import annotations

from flask import abort, render_template, request

from supportbot import config
from supportbot.admin import threads
from supportbot.admin.blueprint import bp
from supportbot.extensions import db
from supportbot.models import Contact


@bp.get("/conversations")
def conversations() -> str:
    """Search by whole number or last digits; without a search, the newest contacts."""
    q = request.args.get("q", "").strip()[:64]
    before = request.args.get("before", type=int)
    if q:
        contacts, older = threads.find_contacts(q), None
    else:
        contacts = threads.recent_contacts(before)
        older = contacts[-1].id if len(contacts) == threads.PAGE else None
    return render_template(
        "admin/conversations.html", q=q, contacts=contacts, older=older, min_suffix=threads.MIN_SUFFIX
    )


@bp.get("/conversations/<int:contact_id>")
def conversation(contact_id: int) -> str:
    """A contact's thread in order, each outbound with its delivery status; consent and tickets."""
    contact = db.session.get(Contact, contact_id) or abort(404)
    before = request.args.get("before", type=int)
    entries, older = threads.thread(contact, before)
    return render_template(
        "admin/conversation.html",
        contact=contact,
        entries=entries,
        older=older,
        events=threads.consent_events(contact.phone),
        tickets=threads.tickets_of(contact.id),
        jira_url=config.current().jira_url,
    )
