"""Admin console accounts: sign in and out, sessions, CSRF, roles, throttling, the audit log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from admin_helpers import PASSWORD, csrf_token, make_user, post_form, sign_in, signed_in

from supportbot.extensions import db
from supportbot.models import AdminUser, AuditEntry


def audit_actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (e.actor, e.action) for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_every_admin_page_needs_a_session(app):
    """Walk the URL map: no /admin rule but sign-in and the stylesheet answers without a session."""
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint in ("admin.login", "admin.static"):
            continue
        path = rule.rule.replace("<int:contact_id>", "1").replace("<int:ticket_id>", "1")
        path = path.replace("<int:version_id>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(path, method=method)
            assert resp.status_code == 302, (method, path, resp.status_code)
            assert resp.headers["Location"].startswith("/admin/login"), (method, path)
            checked += 1
    assert checked >= 17


def test_sign_in_and_out_with_audit_entries(app):
    make_user(app)
    client = app.test_client()
    assert client.get("/admin/keywords").status_code == 302
    resp = sign_in(client)
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/keywords"
    page = client.get("/admin/keywords")
    assert page.status_code == 200 and b"admin@example.com" in page.data
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert post_form(client, "/admin/logout", {}).status_code == 302
    assert client.get("/admin/keywords").status_code == 302
    assert audit_actions(app) == [("admin@example.com", "sign_in"), ("admin@example.com", "sign_out")]


def test_a_session_cookie_replayed_after_sign_out_is_refused(app):
    make_user(app)
    client = app.test_client()
    sign_in(client)
    stolen = client.get_cookie("session").value
    post_form(client, "/admin/logout", {})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/admin/keywords").status_code == 302


def test_a_wrong_password_is_401_logged_and_says_nothing_more(app):
    make_user(app)
    client = app.test_client()
    resp = sign_in(client, password="wrong password!")
    assert resp.status_code == 401 and b"Wrong email or password." in resp.data
    resp = sign_in(client, email="nobody@example.com")
    assert resp.status_code == 401 and b"Wrong email or password." in resp.data
    assert audit_actions(app) == [
        ("admin@example.com", "sign_in_failed"),
        ("nobody@example.com", "sign_in_failed"),
    ]


def test_sessions_expire(make_app):
    app = make_app(ADMIN_SESSION_HOURS=0.0001)  # 0.36 s
    make_user(app)
    client = app.test_client()
    sign_in(client)
    import time

    time.sleep(0.5)
    assert client.get("/admin/keywords").status_code == 302


def test_secure_cookies_in_production(make_app):
    app = make_app(ADMIN_COOKIE_SECURE="true")
    make_user(app)
    resp = sign_in(app.test_client())
    assert "Secure" in resp.headers["Set-Cookie"]


def test_a_form_without_its_csrf_token_is_400(app):
    client = signed_in(app)
    resp = client.post("/admin/keywords/publish", data={"config": "x", "comment": "c", "base": "1"})
    assert resp.status_code == 400 and b"CSRF" in resp.data
    resp = client.post("/admin/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert resp.status_code == 400


def test_a_viewer_sees_everything_and_changes_nothing(app):
    client = signed_in(app, role="viewer")
    for path in (
        "/admin/keywords",
        "/admin/keywords/versions",
        "/admin/tickets",
        "/admin/consent",
        "/admin/audit",
    ):
        assert client.get(path).status_code == 200, path
    page = client.get("/admin/keywords").data.decode()
    assert "Publish</button>" not in page
    resp = post_form(client, "/admin/keywords/publish", {"config": "x", "comment": "c", "base": "1"})
    assert resp.status_code == 403 and b"viewers can look but not change anything" in resp.data
    for path in ("/admin/tickets/1/retry", "/admin/tickets/1/reply", "/admin/keywords/versions/1/rollback"):
        assert post_form(client, path, {}).status_code == 403, path
    # validate and try change nothing, so a viewer may use them
    assert post_form(client, "/admin/keywords", {"config": "program: [", "op": "validate"}).status_code == 422


@pytest.mark.parametrize("who", ["account", "address"])
def test_repeated_failed_sign_ins_are_refused_for_a_while(make_app, who):
    limits = {"ADMIN_SIGNIN_LIMIT_ACCOUNT": "3 per hour", "ADMIN_SIGNIN_LIMIT_ADDRESS": "1000 per hour"}
    if who == "address":
        limits = {"ADMIN_SIGNIN_LIMIT_ACCOUNT": "1000 per hour", "ADMIN_SIGNIN_LIMIT_ADDRESS": "3 per hour"}
    app = make_app(**limits)
    make_user(app)
    client = app.test_client()
    emails = ["admin@example.com"] * 4 if who == "account" else [f"u{i}@example.com" for i in range(4)]
    codes = [sign_in(client, email=e, password="wrong password!").status_code for e in emails]
    assert codes == [401, 401, 401, 429]
    refused = sign_in(client)  # even the right password, while refused
    assert refused.status_code == 429 and b"Too many failed sign-ins" in refused.data
    if who == "account":
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert sign_in(other).status_code == 429  # the account is refused from any address
    else:
        make_user(app, "other@example.com")
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert sign_in(other, email="other@example.com").status_code == 302


def test_successful_sign_ins_are_not_counted(make_app):
    app = make_app(ADMIN_SIGNIN_LIMIT_ACCOUNT="2 per hour")
    make_user(app)
    for _ in range(4):
        client = app.test_client()
        assert sign_in(client).status_code == 302


def test_admin_password_creates_the_first_admin_only_on_an_empty_table(make_app):
    app = make_app(ADMIN_PASSWORD="a long bootstrap password", ADMIN_EMAIL="Boss@Example.com")
    client = app.test_client()
    assert sign_in(client, "boss@example.com", "a long bootstrap password").status_code == 302
    with app.app_context():
        assert [(u.email, u.role) for u in db.session.scalars(sa.select(AdminUser))] == [
            ("boss@example.com", "admin")
        ]


def test_a_short_admin_password_is_refused_in_production(make_app):
    app = make_app(ADMIN_PASSWORD="short")
    app.test_client().get("/admin/login")
    with app.app_context():
        assert db.session.query(AdminUser).count() == 0


def test_create_user_command(app, runner):
    result = runner.invoke(
        args=["admin", "create-user", "Ops@Example.com", "--role", "viewer", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0 and "created viewer ops@example.com" in result.output
    again = runner.invoke(
        args=["admin", "create-user", "ops@example.com", "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(
        args=["admin", "create-user", "x@example.com", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    client = app.test_client()
    assert sign_in(client, "ops@example.com").status_code == 302
    assert ("cli:" in audit_actions(app)[0][0]) and audit_actions(app)[0][1] == "create_user"


def test_the_audit_log_refuses_update_delete_and_truncate(app):
    make_user(app)
    sign_in(app.test_client())
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigger is Postgres's")
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()


def test_next_never_leaves_the_site(app):
    make_user(app)
    client = app.test_client()
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/admin", "/admin\\@evil"):
        resp = client.post(
            "/admin/login",
            data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert resp.headers["Location"] == "/admin/keywords", target
        client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/keywords")})
        token = csrf_token(client)
