"""The admin console's blueprint and the rules every page shares: signed in, CSRF, roles."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from supportbot.extensions import csrf

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static")

# reachable without a session
PUBLIC_ENDPOINTS = {"admin.login", "admin.static"}
# POSTs that change nothing, which viewers may make
# forms that carry a whole keyword configuration
LARGE_FORMS = {"admin.keywords_check", "admin.keywords_publish"}
LARGE_FORM_BYTES = 1024 * 1024
VIEWER_POSTS = {"admin.login", "admin.logout", "admin.keywords_check", "admin.consent_verify"}
# ids are Postgres integers: a larger number names no record, and would make the query fail
MAX_ID = 2**31 - 1


def malformed() -> str | None:
    """Why the request's values cannot reach the database, or None.

    Postgres text cannot hold NUL and its integer ids stop at MAX_ID; either would
    fail inside a query (a 500) instead of answering what is wrong.
    """
    given = [request.args, request.form] if request.method == "POST" else [request.args]
    if any("\x00" in v for d in given for vs in d.listvalues() for v in vs):
        return "NUL characters are not allowed"
    ids = [v for v in (request.view_args or {}).values() if isinstance(v, int)]
    for name in ("before", "base"):  # the keyset and the draft's base version
        raw = request.values.get(name, "")
        if raw.lstrip("-").isdecimal():
            ids.append(int(raw))
    if any(abs(i) > MAX_ID for i in ids):
        return "no record has that id"
    return None


def session_expired() -> bool:
    started = session.get("signed_in_at")
    if not isinstance(started, int | float):
        return True
    age = datetime.now(UTC).timestamp() - started
    return age > current_app.config["PERMANENT_SESSION_LIFETIME"] or age < -60


@bp.before_request
def guard() -> Response | None:
    """Every page needs a live session; every form its CSRF token; changes need the admin role."""
    if request.endpoint in LARGE_FORMS:
        # a configuration may be 256 KiB, more once form-encoded; the app's limit is for webhooks
        request.max_content_length = LARGE_FORM_BYTES
        request.max_form_memory_size = LARGE_FORM_BYTES
    reason = malformed()
    if reason is not None:
        abort(400, description=reason)
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    if current_user.is_authenticated and session_expired():
        logout_user()
        session.clear()
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    if request.method == "POST":
        csrf.protect()
        if request.endpoint not in VIEWER_POSTS and not current_user.is_admin:
            abort(403, description="viewers can look but not change anything")
    return None


@bp.after_request
def no_store(resp: Response) -> Response:
    # admin pages show phone numbers and message text: keep them out of shared caches
    resp.headers.setdefault("Cache-Control", "no-store")
    # no inline script or style, nothing from elsewhere: an injected tag could do nothing
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    return resp


@bp.errorhandler(CSRFError)
def csrf_failed(exc: CSRFError) -> tuple[str, int]:
    return render_template("admin/error.html", code=400, reason=exc.description), 400


@bp.errorhandler(403)
def forbidden(exc: Exception) -> tuple[str, int]:
    reason = getattr(exc, "description", "") or "forbidden"
    return render_template("admin/error.html", code=403, reason=reason), 403


@bp.errorhandler(404)
def not_found(exc: Exception) -> tuple[str, int]:
    return render_template("admin/error.html", code=404, reason="no such page or record"), 404


@bp.get("/")
def index() -> Response:
    """The console starts at the keyword page."""
    return redirect(url_for("admin.keywords"))
