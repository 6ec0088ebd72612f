"""CLI commands for admins and operators: keywords, consent, tickets."""

from __future__ import annotations

import csv
import shlex
import sys
import uuid

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from rq.exceptions import NoSuchJobError
from rq.job import Job
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from supportbot import config
from supportbot.consent import ledger
from supportbot.extensions import db
from supportbot.inbound import service
from supportbot.jobs import queues
from supportbot.jobs.dispatch import dispatch
from supportbot.keywords import engine
from supportbot.keywords.schema import KeywordConfigError, load
from supportbot.models import Outbox, Ticket
from supportbot.phone import mask, normalise

keywords_cli = AppGroup("keywords", help="Validate and try the keyword configuration.")
consent_cli = AppGroup("consent", help="The consent ledger.")
tickets_cli = AppGroup("tickets", help="Tickets whose help-desk issue could not be made.")


@keywords_cli.command("check")
@click.argument("file", required=False)
def keywords_check(file: str | None) -> None:
    """Validate FILE (default KEYWORDS_FILE); exit 1 with the reasons."""
    path = file or config.current().keywords_file
    try:
        checked = load(path)
    except KeywordConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"{path}: ok, {len(checked.routes)} keywords, default action {checked.default.action}")


@keywords_cli.command("try")
@click.argument("text")
@click.option("--from", "sender", required=True, help="The sender's number.")
def keywords_try(text: str, sender: str) -> None:
    """Show the route and the reply for TEXT from a number; change nothing."""
    keywords = current_app.extensions["keywords"].get()
    form = MultiDict([("MessageSid", "SMtry" + uuid.uuid4().hex), ("From", sender), ("Body", text)])
    result = service.handle(form, b"", keywords, commit=False)
    match = engine.route(keywords, text)
    click.echo(f"from:  {normalise(sender)}")
    click.echo(
        f"route: {match.route.keyword} -> {match.route.action}"
        + (f" {list(match.args)}" if match.args else "")
    )
    click.echo(f"reply: {result.reply if result.reply is not None else '(none: empty TwiML)'}")


@consent_cli.command("export")
@click.option("--number", help="Only this number's events.")
def consent_export(number: str | None) -> None:
    """Write the ledger as CSV on stdout (full numbers: it is an audit record)."""
    out = csv.writer(sys.stdout)
    cols = [
        "id",
        "recorded_at",
        "phone",
        "event",
        "source",
        "keyword",
        "message_sid",
        "request_hash",
        "prev_hash",
        "hash",
    ]
    out.writerow(cols)
    for row in ledger.rows(normalise(number) if number else None):
        out.writerow([getattr(row, c) or "" for c in cols])


@consent_cli.command("verify")
@click.option(
    "--checkpoint", "kept", help="ROWS:HASH from `consent checkpoint`: prove the ledger still holds it."
)
def consent_verify(kept: str | None) -> None:
    """Check the hash chain and the contacts' cached flags; exit 1 naming each problem."""
    try:
        point = ledger.Checkpoint.parse(kept) if kept else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--checkpoint") from None
    broken = ledger.verify(point)
    disagreeing = ledger.disagreeing_contacts()
    if broken:
        click.echo(f"consent ledger broken at row {broken[0]}: {broken[1]}", err=True)
    for contact_id, phone, flag in disagreeing:
        said = "opted in" if flag is False else "opted out"
        click.echo(
            f"contact {contact_id} ({mask(phone)}) is marked {said} but the ledger says otherwise;"
            " sends follow the ledger",
            err=True,
        )
    if broken or disagreeing:
        sys.exit(1)
    now = ledger.checkpoint()
    extra = f", holds checkpoint {point.rows}:{point.head[:12]}…" if point else ""
    click.echo(f"consent ledger ok: {now.rows} rows, chain intact{extra}")


@consent_cli.command("checkpoint")
def consent_checkpoint() -> None:
    """Print rows=N head=HASH: keep it outside the database, verify with --checkpoint N:HASH."""
    point = ledger.checkpoint()
    click.echo(f"rows={point.rows} head={point.head}")


@tickets_cli.command("failed")
@click.option("--retry", is_flag=True, help="Put the failed tickets' jobs back to work.")
def tickets_failed(retry: bool) -> None:
    """List tickets whose help-desk creation failed; with --retry, retry them."""
    failed = db.session.scalars(
        sa.select(Ticket).where(Ticket.create_state == "failed").order_by(Ticket.id)
    ).all()
    if not failed:
        click.echo("no failed tickets")
        return
    retried: list[tuple[int, str]] = []
    for t in failed:
        click.echo(f"{t.ref}\t{t.created_at:%Y-%m-%d %H:%M}\t{(t.create_error or '').splitlines()[0][:160]}")
        if retry:
            row = db.session.scalars(
                sa.select(Outbox)
                .where(Outbox.kind == "create_ticket", Outbox.state == "failed")
                .where(Outbox.payload["ticket_id"].as_integer() == t.id)
            ).first()
            if row is not None:
                row.state, row.last_error = "pending", None
                t.create_state, t.create_error = "pending", None
                retried.append((row.id, row.kind))
    if retry:
        db.session.commit()
        if config.current().redis_url:
            for outbox_id, _ in retried:
                try:
                    Job.fetch(queues.job_id(outbox_id), connection=queues.redis()).delete()
                except NoSuchJobError:
                    pass
        dispatch(retried)
        click.echo(f"retrying {len(retried)} tickets")


@click.command("signed-curl")
@click.argument("text", default="Hello")
@click.option("--from", "sender", default="+14155550123", show_default=True)
@click.option("--url", default=None, help="Base URL the request goes to (default PUBLIC_BASE_URL).")
def signed_curl(text: str, sender: str, url: str | None) -> None:
    """Print a curl command that sends a correctly signed test SMS."""
    settings = config.current()
    base = (url or settings.public_base_url or "http://127.0.0.1:5000").rstrip("/")
    target = base + "/twilio/inbound"
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": settings.twilio_account_sid or "",
        "From": sender,
        "To": settings.twilio_from_number or "",
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(settings.twilio_auth_token or "").compute_signature(target, form)
    parts = ["curl", "-sS", target, "-H", f"X-Twilio-Signature: {signature}"]
    for key, value in form.items():
        parts += ["--data-urlencode", f"{key}={value}"]
    click.echo("Send a signed test SMS from another terminal:")
    click.echo("  " + " ".join(shlex.quote(p) for p in parts))


def init_app(app: Flask) -> None:
    app.cli.add_command(signed_curl)
    app.cli.add_command(keywords_cli)
    app.cli.add_command(consent_cli)
    app.cli.add_command(tickets_cli)
