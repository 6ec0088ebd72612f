"""Admin console pages over HTTP: keywords, versions, conversations, tickets, consent, audit."""

from __future__ import annotations

import re

import sqlalchemy as sa
from admin_helpers import post_form, signed_in
from helpers import ROOT, inbound_form, post_signed

from standins import ServedApp, free_port, wait_until
from supportbot.extensions import db
from supportbot.keywords import versions
from supportbot.models import AuditEntry, KeywordVersion, Message, Outbox, Ticket

GOOD = (ROOT / "keywords.yaml").read_text()
HOURS = "We answer texts Mon-Fri 8am-6pm Pacific."
CUSTOMER = "+14155550123"


def audit(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(e.action, e.target, e.detail) for e in rows if e.action not in ("sign_in",)]


def texts(client, *bodies, sender=CUSTOMER, start=1):
    for i, body in enumerate(bodies, start):
        resp = post_signed(client, inbound_form(sid=f"SM{i:032d}", sender=sender, body=body))
        assert resp.status_code == 200


def test_keywords_page_shows_the_table_the_yaml_and_the_source(app):
    client = signed_in(app)
    page = client.get("/admin/keywords").data.decode()
    assert "In force: <strong>version 1</strong>" in page and "source of truth" in page
    assert '<td data-label="Action">opt_out</td>' in page and HOURS in page
    assert 'id="config" name="config"' in page and "program: Acme Support" in page


def test_validate_shows_each_error_beside_its_line(app):
    client = signed_in(app)
    bad = GOOD.replace("action: reply", "action: dance")
    line = bad.splitlines().index("    action: dance") + 1
    resp = post_form(client, "/admin/keywords", {"config": bad, "base": "1", "op": "validate"})
    assert resp.status_code == 422
    page = resp.data.decode()
    assert f'<tr id="line-{line}" class="bad">' in page
    assert f"line {line}: unknown action &#39;dance&#39;" in page
    ok = post_form(client, "/admin/keywords", {"config": GOOD, "base": "1", "op": "validate"})
    assert ok.status_code == 200 and "Valid: 6 keywords" in ok.data.decode()


def test_try_shows_route_reply_and_effect_and_changes_nothing(app):
    client = signed_in(app)
    draft = GOOD.replace(HOURS, "Draft hours.")
    resp = post_form(
        client,
        "/admin/keywords",
        {"config": draft, "base": "1", "op": "try", "text": "hours", "from": CUSTOMER},
    )
    page = resp.data.decode()
    assert resp.status_code == 200 and "HOURS -&gt; reply" in page and "Draft hours." in page
    resp = post_form(
        client, "/admin/keywords", {"config": GOOD, "base": "1", "op": "try", "text": "hi", "from": CUSTOMER}
    )
    assert "opens a new ticket and creates its help-desk issue" in resp.data.decode()
    with app.app_context():
        assert db.session.query(Message).count() == 0 and db.session.query(Ticket).count() == 0
        assert db.session.query(Outbox).count() == 0


def test_publish_answers_with_the_new_reply_and_is_audited(app):
    client = signed_in(app)
    draft = GOOD.replace(HOURS, "Open late today.")
    resp = post_form(client, "/admin/keywords/publish", {"config": draft, "base": "1", "comment": "late"})
    assert resp.status_code == 302
    reply = post_signed(app.test_client(), inbound_form(body="HOURS"))
    assert "Open late today." in reply.data.decode()
    assert ("publish", "keywords version 2", "late") in audit(app)
    with app.app_context():
        assert versions.published().author == "admin@example.com"


def test_a_stale_publish_is_409_with_the_diff_and_keeps_the_draft(app):
    client = signed_in(app)
    with app.app_context():
        app.extensions["keywords"].get()
        versions.publish(GOOD.replace(HOURS, "Someone else's hours."), "other@example.com", "x", base_id=1)
    mine = GOOD.replace("Acme Support", "Mine Inc")
    resp = post_form(client, "/admin/keywords/publish", {"config": mine, "base": "1", "comment": "mine"})
    page = resp.data.decode()
    assert resp.status_code == 409
    assert "Version 2 was published by other@example.com" in page
    assert '<span class="add">+    reply: &#34;Someone else&#39;s hours.&#34;</span>' in page
    assert "program: Mine Inc" in page and 'name="base" value="2"' in page
    with app.app_context():
        assert versions.published_id() == 2


def test_publish_needs_a_comment_and_a_valid_draft(app):
    client = signed_in(app)
    resp = post_form(client, "/admin/keywords/publish", {"config": GOOD, "base": "1", "comment": " "})
    assert resp.status_code == 422 and b"Say in the Comment" in resp.data
    bad = GOOD.replace("action: reply", "action: dance")
    resp = post_form(client, "/admin/keywords/publish", {"config": bad, "base": "1", "comment": "x"})
    assert resp.status_code == 422 and b"unknown action" in resp.data
    with app.app_context():
        assert db.session.query(KeywordVersion).count() == 1


def test_history_diffs_and_roll_back_with_confirmation(app):
    client = signed_in(app)
    post_form(
        client,
        "/admin/keywords/publish",
        {"config": GOOD.replace(HOURS, "v2 hours"), "base": "1", "comment": "two"},
    )
    page = client.get("/admin/keywords/versions").data.decode()
    assert page.index("Version 2") < page.index("Version 1")
    assert '<span class="add">+    reply: &#34;v2 hours&#34;</span>' in page
    assert page.count(">Roll back</button>") == 1  # only older versions
    confirm = client.get("/admin/keywords/versions/1/rollback").data.decode()
    assert "Roll back to version 1?" in confirm and "Yes, roll back" in confirm
    with app.app_context():
        assert versions.published_id() == 2  # looking changes nothing
    resp = post_form(
        client,
        "/admin/keywords/versions/1/rollback",
        {"base": "2"},
        page="/admin/keywords/versions/1/rollback",
    )
    assert resp.status_code == 302
    with app.app_context():
        row = versions.published()
        assert (row.id, row.parent_id, row.comment, row.yaml) == (3, 2, "roll back to version 1", GOOD)
    assert ("rollback", "keywords version 3", "roll back to version 1") in audit(app)
    assert HOURS in post_signed(app.test_client(), inbound_form(body="hours")).data.decode()


def test_conversations_find_by_whole_number_or_last_digits(app):
    texts(app.test_client(), "hello")
    texts(app.test_client(), "hi", sender="+14155559876", start=2)
    client = signed_in(app)
    for q in ("+1 (415) 555-0123", "0123", "50123"):
        page = client.get("/admin/conversations", query_string={"q": q}).data.decode()
        assert CUSTOMER in page and "+14155559876" not in page, q
    page = client.get("/admin/conversations", query_string={"q": "12"}).data.decode()
    assert "at least 4 last digits" in page
    page = client.get("/admin/conversations").data.decode()
    assert CUSTOMER in page and "+14155559876" in page


def test_a_thread_shows_messages_replies_delivery_consent_and_tickets(app):
    texts(app.test_client(), "my parcel is late", "stop")
    with app.app_context():
        contact_id = db.session.scalar(sa.text("SELECT id FROM contacts"))
        db.session.add(
            Message(
                direction="out",
                to_number=CUSTOMER,
                body="We are on it",
                ticket_id=1,
                status="undelivered",
                error_code=30003,
                sid="SMout1",
            )
        )
        db.session.commit()
    client = signed_in(app)
    page = client.get(f"/admin/conversations/{contact_id}").data.decode()
    assert (
        page.index("my parcel is late")
        < page.index("Thanks! Ticket SB-1 is open")
        < page.index("We are on it")
    )
    assert "Error 30003: Unreachable destination handset" in page
    assert "<strong>Opted out</strong>" in page and "opt_out · keyword (STOP)" in page
    assert 'href="/admin/tickets/1">SB-1</a>' in page


def test_a_thread_pages_by_keyset(app):
    texts(app.test_client(), *[f"text {i}" for i in range(60)])
    client = signed_in(app)
    first = client.get("/admin/conversations/1").data.decode()
    assert "text 59" in first and "text 9<" not in first
    older = re.search(r'href="(/admin/conversations/1\?before=\d+)"', first).group(1)
    second = client.get(older).data.decode()
    assert "text 9<" in second and "text 59" not in second


def test_tickets_filter_and_retry_a_failed_creation(app):
    texts(app.test_client(), "help me")
    with app.app_context():
        db.session.execute(
            sa.update(Ticket).values(create_state="failed", create_error="configuration: bad project")
        )
        db.session.execute(sa.update(Outbox).where(Outbox.kind == "create_ticket").values(state="failed"))
        db.session.commit()
    client = signed_in(app)
    page = client.get("/admin/tickets", query_string={"state": "failed"}).data.decode()
    assert "SB-1" in page and "configuration: bad project" in page and ">Retry</button>" in page
    resp = post_form(
        client,
        "/admin/tickets/1/retry",
        {"back": "/admin/tickets?state=failed"},
        page="/admin/tickets?state=failed",
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Ticket, 1).create_state == "created"  # jobs run in process without Redis
    assert ("retry", "SB-1", "retrying") in audit(app)
    assert "No failed tickets." in client.get("/admin/tickets?state=failed").data.decode()


def test_a_local_reply_goes_through_the_outbound_pipeline(make_app, sandbox):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(PUBLIC_BASE_URL=base, TWILIO_API_BASE_URL=sandbox.url, OUTBOUND_MPS=50)
    web = ServedApp(app, port)
    try:
        post_signed(app.test_client(), inbound_form(body="where is my order"), base=base)
        client = signed_in(app)
        page = client.get("/admin/tickets/1").data.decode()
        reply_id = re.search(r'name="reply_id" value="(\w+)"', page).group(1)
        form = {"reply": "It ships today.", "reply_id": reply_id}
        assert post_form(client, "/admin/tickets/1/reply", form, page="/admin/tickets/1").status_code == 302
        assert post_form(client, "/admin/tickets/1/reply", form, page="/admin/tickets/1").status_code == 302
        assert [m["body"] for m in sandbox.messages()] == ["It ships today."]  # once, though posted twice

        def status():
            with app.app_context():
                return db.session.scalar(sa.select(Message.status).where(Message.direction == "out"))

        wait_until(lambda: status() == "delivered", 10, "the delivery receipt")
        page = client.get("/admin/tickets/1").data.decode()
        assert "It ships today." in page and '<span class="status s-delivered">delivered</span>' in page
        assert "admin@example.com: It ships today." in page  # the local help desk's note
        assert ("reply", "SB-1", "15 characters") in audit(app)

        post_signed(app.test_client(), inbound_form(sid="SM" + "b" * 32, body="STOP"), base=base)
        page = client.get("/admin/tickets/1").data.decode()
        reply_id = re.search(r'name="reply_id" value="(\w+)"', page).group(1)
        post_form(
            client,
            "/admin/tickets/1/reply",
            {"reply": "Still there?", "reply_id": reply_id},
            page="/admin/tickets/1",
        )
        page = client.get("/admin/tickets/1").data.decode()
        assert "not sent: ***0123 has opted out (texted STOP)" in page
        assert len(sandbox.messages()) == 1
    finally:
        web.close()


def test_consent_verify_and_export_are_audited(app):
    texts(app.test_client(), "stop", "start")
    client = signed_in(app)
    page = client.get("/admin/consent").data.decode()
    assert page.count(f'<td data-label="Number">{CUSTOMER}</td>') == 2 and ">Export CSV</a>" in page
    resp = post_form(client, "/admin/consent/verify", {}, page="/admin/consent")
    assert "Chain intact: 2 rows verified." in resp.data.decode()
    csv = client.get("/admin/consent/export.csv", query_string={"number": "(415) 555-0123"})
    assert csv.mimetype == "text/csv"
    assert csv.headers["Content-Disposition"] == 'attachment; filename="consent-ledger-14155550123.csv"'
    lines = csv.data.decode().splitlines()
    assert lines[0].startswith("id,recorded_at,phone") and len(lines) == 3
    actions = audit(app)
    assert ("verify", "consent ledger", "Chain intact: 2 rows verified.") in actions
    assert ("export", "consent ledger", f"number {CUSTOMER}") in actions


def test_consent_verify_in_the_console_names_a_flag_changed_outside_the_ledger(app):
    """The console's Verify checks what `consent verify` checks: the chain and the cached flags."""
    texts(app.test_client(), "stop")
    with app.app_context():
        db.session.execute(sa.text("UPDATE contacts SET opted_out = false"))
        db.session.commit()
    client = signed_in(app)
    page = post_form(client, "/admin/consent/verify", {}, page="/admin/consent").data.decode()
    assert "is marked opted in but the ledger says otherwise" in page and "Chain intact" not in page
    assert CUSTOMER not in page.split("ledger says otherwise")[0].rsplit("contact", 1)[1]  # masked


def test_the_audit_page_lists_and_filters(app):
    client = signed_in(app)
    post_form(client, "/admin/consent/verify", {}, page="/admin/consent")
    page = client.get("/admin/audit").data.decode()
    signed, verified = '<td data-label="Action">sign in</td>', '<td data-label="Action">verify</td>'
    assert signed in page and verified in page
    page = client.get("/admin/audit", query_string={"action": "verify"}).data.decode()
    assert signed not in page and verified in page


def test_unknown_records_are_404(app):
    client = signed_in(app)
    for path in ("/admin/conversations/999", "/admin/tickets/999", "/admin/keywords/versions/999/rollback"):
        assert client.get(path).status_code == 404, path


def test_the_cli_export_is_audited_too(app, runner):
    texts(app.test_client(), "stop")
    result = runner.invoke(args=["consent", "export"])
    assert result.exit_code == 0 and CUSTOMER in result.output
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.actor.startswith("cli:") and (entry.action, entry.detail) == ("export", "all rows")


def test_a_configuration_near_the_size_limit_goes_through_the_form(app):
    """The app refuses webhook bodies over 64 KB; a keyword form may carry 256 KiB."""
    client = signed_in(app)
    padding = "".join(f"# {'padding ' * 12}{i}\n" for i in range(2000))
    big = GOOD + padding
    assert 200_000 < len(big.encode()) < 256 * 1024
    resp = post_form(client, "/admin/keywords/publish", {"config": big, "base": "1", "comment": "big"})
    assert resp.status_code == 302
    too_big = big + padding
    resp = post_form(client, "/admin/keywords/publish", {"config": too_big, "base": "2", "comment": "bigger"})
    assert resp.status_code == 422 and b"the limit is 262,144 (256 KiB)" in resp.data
    resp = client.post("/twilio/inbound", data={"Body": "x" * 70_000})
    assert resp.status_code == 413  # the webhook limit is untouched


def test_admin_pages_forbid_scripts_and_framing(app):
    resp = signed_in(app).get("/admin/keywords")
    assert "script-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
