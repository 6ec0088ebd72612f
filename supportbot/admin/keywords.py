"""Keyword pages: the published configuration, validate, try, publish, history, roll back."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from supportbot.admin.blueprint import bp
from supportbot.audit import record
from supportbot.inbound import trial
from supportbot.keywords import versions
from supportbot.keywords.schema import KeywordConfig, KeywordConfigError, parse

_PROBLEM = re.compile(r"^[^:]*:(\d+): (.*)$", re.S)
MAX_TRY_TEXT = 1600


def problems_by_line(exc: KeywordConfigError) -> list[tuple[int, str]]:
    """'draft:12: reason' -> (12, 'reason'); the page shows each beside its line."""
    out = []
    for problem in exc.problems:
        m = _PROBLEM.match(problem)
        out.append((int(m.group(1)), m.group(2)) if m else (1, problem))
    return out


def _page(draft: str, base_id: int | None, status: int = 200, **extra: object) -> tuple[str, int]:
    row = versions.published()
    table: KeywordConfig | None = parse(row.yaml, f"version {row.id}") if row else None
    errors = extra.pop("errors", [])
    marks: dict[int, list[str]] = {}
    for line, reason in errors:  # type: ignore[attr-defined]
        marks.setdefault(line, []).append(reason)
    html = render_template(
        "admin/keywords.html",
        published=row,
        table=table,
        draft=draft,
        base_id=base_id,
        errors=errors,
        marks=marks,
        lines=draft.splitlines(),
        **extra,
    )
    return html, status


@bp.before_request
def seed_first() -> None:
    # an empty database gets KEYWORDS_FILE as version 1 before any keyword page reads it
    if request.endpoint and request.endpoint.startswith("admin.keyword"):
        current_app.extensions["keywords"].get()


def _form_base() -> int | None:
    raw = request.form.get("base", "")
    return int(raw) if raw.isdecimal() else None  # isdigit() takes "²", which int() refuses


@bp.get("/keywords")
def keywords() -> tuple[str, int]:
    """The published configuration as a table and as editable YAML."""
    row = versions.published()
    return _page(row.yaml if row else "", row.id if row else None)


@bp.post("/keywords")
def keywords_check() -> tuple[str, int]:
    """Validate the draft, or try a text against it; nothing changes."""
    draft = request.form.get("config", "")
    base_id = _form_base()
    try:
        config = parse(draft, "draft")
    except KeywordConfigError as exc:
        return _page(
            draft, base_id, 422, errors=problems_by_line(exc), comment=request.form.get("comment", "")
        )
    if request.form.get("op") != "try":
        return _page(draft, base_id, checked=config, comment=request.form.get("comment", ""))
    text = request.form.get("text", "")[:MAX_TRY_TEXT]
    sender = request.form.get("from", "").strip()
    if not sender:
        return _page(draft, base_id, 422, try_error="Give a From number to try a text.", text=text)
    outcome = trial.try_text(config, text, sender)
    return _page(
        draft, base_id, outcome=outcome, text=text, sender=sender, comment=request.form.get("comment", "")
    )


@bp.post("/keywords/publish")
def keywords_publish() -> Response | tuple[str, int]:
    """Publish the draft as the next version, unless its base is no longer published."""
    draft = request.form.get("config", "")
    base_id = _form_base()
    comment = request.form.get("comment", "").strip()
    if not comment:
        return _page(draft, base_id, 422, publish_error="Say in the Comment what changed and why.")
    try:
        row = versions.publish(draft, current_user.email, comment, base_id=base_id)
    except KeywordConfigError as exc:
        return _page(draft, base_id, 422, errors=problems_by_line(exc), comment=comment)
    except versions.StaleBase as exc:
        # the draft is kept; publishing again (now based on the current version) replaces it
        return _page(draft, exc.current.id, 409, stale=exc, comment=comment)
    record(current_user.email, "publish", f"keywords version {row.id}", comment)
    flash(f"Published version {row.id}. Every process uses it within 2 seconds.", "info")
    return redirect(url_for("admin.keywords"))


@bp.get("/keywords/versions")
def keyword_versions() -> str:
    """Every version, newest first, each with a line diff to its parent."""
    before = request.args.get("before", type=int)
    rows = versions.history(limit=20, before=before)
    parents = {r.id: versions.get(r.parent_id) if r.parent_id else None for r in rows}
    diffs = {
        r.id: versions.diff(
            (parent.yaml if (parent := parents[r.id]) is not None else ""),
            r.yaml,
            versions.source_name(r.parent_id),
            f"version {r.id}",
        )
        for r in rows
    }
    older = rows[-1].id if len(rows) == 20 else None
    return render_template("admin/versions.html", rows=rows, diffs=diffs, older=older)


@bp.route("/keywords/versions/<int:version_id>/rollback", methods=["GET", "POST"])
def keyword_rollback(version_id: int) -> Response | str:
    """Confirm, then publish a copy of an older version as a new version."""
    target = versions.get(version_id) or abort(404)
    current = versions.published()
    if current is not None and current.id == target.id:
        flash(f"Version {target.id} is the published version already.", "info")
        return redirect(url_for("admin.keyword_versions"))
    if request.method == "GET":
        change = versions.diff(
            current.yaml if current else "", target.yaml, "published", f"version {target.id}"
        )
        return render_template("admin/rollback.html", target=target, current=current, change=change)
    comment = f"roll back to version {target.id}"
    try:
        row = versions.publish(target.yaml, current_user.email, comment, base_id=_form_base())
    except versions.StaleBase as exc:
        flash(f"Version {exc.current.id} was published meanwhile; look again before rolling back.", "error")
        return redirect(url_for("admin.keyword_rollback", version_id=target.id))
    except KeywordConfigError as exc:
        # an old version can fail a rule added since; it is never published again as it is
        flash(f"Version {target.id} no longer passes validation: {exc.problems[0]}", "error")
        return redirect(url_for("admin.keyword_versions"))
    record(current_user.email, "rollback", f"keywords version {row.id}", comment)
    flash(f"Rolled back: version {row.id} is a copy of version {target.id}.", "info")
    return redirect(url_for("admin.keyword_versions"))
