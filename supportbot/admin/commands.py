"""`admin create-user`: accounts for the admin console."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from supportbot.admin import accounts
from supportbot.audit import cli_actor, record

admin_cli = AppGroup("admin", help="Admin console accounts.")


@admin_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_user(email: str, role: str, password_stdin: bool) -> None:
    """Create an admin console account (password from a prompt or stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create(email, password, role)
    except accounts.AccountError as exc:
        click.echo(f"refused: {exc}", err=True)
        sys.exit(1)
    record(cli_actor(), "create_user", user.email, f"role {role}")
    click.echo(f"created {role} {user.email}")
