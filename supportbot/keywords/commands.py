"""`keywords publish` and `keywords export`: the YAML file as the interchange format."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from supportbot.audit import cli_actor, record
from supportbot.keywords import versions
from supportbot.keywords.schema import KeywordConfigError, parse


@click.command("publish")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--comment", required=True, help="Why: shown in the history.")
@click.option("--author", default=None, help="Who publishes (default cli:<login name>).")
@click.option("--base", type=int, default=None, help="Refuse unless this version is still the published one.")
def keywords_publish(file: str, comment: str, author: str | None, base: int | None) -> None:
    """Validate FILE and publish it as the next version."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"{file}: cannot read the file ({exc.__class__.__name__})", err=True)
        sys.exit(1)
    who = author or cli_actor()
    try:
        parse(text, file)  # reasons name the file, not "draft"
        row = versions.publish(text, who, comment, base_id=base, check_base=base is not None)
    except KeywordConfigError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    except versions.StaleBase as exc:
        click.echo(f"refused: {exc}; changes since:", err=True)
        click.echo(exc.diff, err=True, nl=False)
        sys.exit(1)
    record(who, "publish", f"keywords version {row.id}", comment)
    click.echo(f"published version {row.id} (parent {row.parent_id})")


@click.command("export")
@with_appcontext
@click.option(
    "--version", "version_id", type=int, default=None, help="A version number (default: published)."
)
def keywords_export(version_id: int | None) -> None:
    """Print the published (or a given) version as YAML."""
    row = versions.get(version_id) if version_id else versions.published()
    if row is None:
        click.echo(f"no {'version ' + str(version_id) if version_id else 'published version'}", err=True)
        sys.exit(1)
    click.echo(row.yaml, nl=not row.yaml.endswith("\n"))
