"""Sign in and out of the admin console."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from supportbot import config
from supportbot.admin import accounts
from supportbot.admin.blueprint import bp
from supportbot.audit import record
from supportbot.extensions import limiter

MAX_EMAIL = 255  # the column's length


def _email() -> str:
    """The email as typed, cut to what an account can hold: the same for the limit and the check."""
    return request.form.get("email", "")[:MAX_EMAIL]


def _account_key() -> str:
    # hashed: the limiter's storage never holds the email; counted on exactly the email
    # that is checked, so padding past the cut cannot give each guess a fresh count
    email = accounts.normalise_email(_email())
    return "signin-account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _address_key() -> str:
    return f"signin-address:{request.remote_addr}"


def _failed(resp: Response) -> bool:
    return resp.status_code == 401


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.keywords")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: config.current().admin_signin_limit_account,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: config.current().admin_signin_limit_address,
    key_func=_address_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> Response | tuple[str, int] | str:
    """The sign-in form; a wrong email or password answers 401 and is logged."""
    accounts.bootstrap()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("admin/login.html", next=request.args.get("next", ""))
    email = _email()
    user = accounts.authenticate(email, request.form.get("password", ""))
    if user is None:
        record(
            accounts.normalise_email(email) or "(blank)", "sign_in_failed", detail="wrong email or password"
        )
        flash("Wrong email or password.", "error")
        return render_template("admin/login.html", next=request.form.get("next", ""), email=email), 401
    session.clear()  # a fresh session: nothing from before sign-in carries over
    session.permanent = True
    session["signed_in_at"] = datetime.now(UTC).timestamp()
    login_user(accounts.SignedIn(user))
    record(user.email, "sign_in")
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: this account's every session ends."""
    email, user_id = current_user.email, current_user.user_id
    accounts.end_sessions(user_id)
    logout_user()
    session.clear()
    record(email, "sign_out")
    flash("Signed out.", "info")
    return redirect(url_for("admin.login"))


@bp.errorhandler(RateLimitExceeded)
def too_many(exc: Exception) -> tuple[str, int]:
    """429 on the sign-in page, saying what happened."""
    flash("Too many failed sign-ins. Wait a while and try again.", "error")
    return render_template("admin/login.html", next="", email=""), 429
