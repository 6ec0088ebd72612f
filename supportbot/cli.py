"""CLI commands for admins and operators: keywords, consent, tickets."""

from __future__ import annotations

import shlex
import sys
import uuid

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from twilio.request_validator import RequestValidator

from supportbot import config
from supportbot.audit import cli_actor, record
from supportbot.consent import export, ledger
from supportbot.extensions import db
from supportbot.inbound import trial
from supportbot.keywords import commands as keyword_commands
from supportbot.keywords import versions
from supportbot.keywords.schema import KeywordConfig, KeywordConfigError, load, parse
from supportbot.phone import normalise
from supportbot.tickets import retry

keywords_cli = AppGroup("keywords", help="Validate, try, publish and export the keyword configuration.")
consent_cli = AppGroup("consent", help="The consent ledger.")
tickets_cli = AppGroup("tickets", help="Tickets whose help-desk issue could not be made.")


def _config_from(file: str | None) -> KeywordConfig:
    """A file's config, or the published version's when no file is named."""
    if file:
        return load(file)
    row = versions.published()
    if row is None:
        raise KeywordConfigError(["no published version yet (the first request imports KEYWORDS_FILE)"])
    return parse(row.yaml, f"version {row.id}")


@keywords_cli.command("check")
@click.argument("file", required=False)
def keywords_check(file: str | None) -> None:
    """Validate FILE (default: the published version); exit 1 with the reasons."""
    try:
        checked = _config_from(file)
    except KeywordConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    summary = f"{len(checked.routes)} keywords, default action {checked.default.action}"
    click.echo(f"{checked.source}: ok, {summary}")


@keywords_cli.command("try")
@click.argument("text")
@click.option("--from", "sender", required=True, help="The sender's number.")
@click.option("--file", "file", default=None, help="Try this file instead of the published version.")
def keywords_try(text: str, sender: str, file: str | None) -> None:
    """Show the route and the reply for TEXT from a number; change nothing."""
    try:
        keywords = _config_from(file) if file else current_app.extensions["keywords"].get()
    except KeywordConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    outcome = trial.try_text(keywords, text, sender)
    click.echo(f"from:  {outcome.sender}")
    click.echo(f"route: {outcome.route}")
    click.echo(f"reply: {outcome.reply if outcome.reply is not None else '(none: empty TwiML)'}")


@consent_cli.command("export")
@click.option("--number", help="Only this number's events.")
def consent_export(number: str | None) -> None:
    """Write the ledger as CSV on stdout (full numbers: it is an audit record)."""
    for chunk in export.csv_lines(normalise(number) if number else None):
        sys.stdout.write(chunk)
    record(cli_actor(), "export", "consent ledger", f"number {normalise(number)}" if number else "all rows")


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
    found = ledger.problems(point)
    for problem in found:
        click.echo(problem, err=True)
    if found:
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
@click.option("--retry", "again", is_flag=True, help="Put the failed tickets' jobs back to work.")
def tickets_failed(again: bool) -> None:
    """List tickets whose help-desk creation failed; with --retry, retry them."""
    failed = retry.failed_tickets()
    if not failed:
        click.echo("no failed tickets")
        return
    for t in failed:
        click.echo(f"{t.ref}\t{t.created_at:%Y-%m-%d %H:%M}\t{(t.create_error or '').splitlines()[0][:160]}")
    if again:
        retried = retry.retry(failed)
        for ticket_id in retried:
            record(cli_actor(), "retry", f"SB-{ticket_id}", "retrying", commit=False)
        db.session.commit()
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
    keywords_cli.add_command(keyword_commands.keywords_publish)
    keywords_cli.add_command(keyword_commands.keywords_export)
    app.cli.add_command(keywords_cli)
    app.cli.add_command(consent_cli)
    app.cli.add_command(tickets_cli)
