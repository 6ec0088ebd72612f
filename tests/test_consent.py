"""The consent ledger: a hash chain that shows any edit or deletion; CSV export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from helpers import HAVE_PG, inbound_form, post_signed

from supportbot.consent import chain
from supportbot.extensions import db
from supportbot.models import ConsentEvent


def rows(n: int) -> list[dict]:
    out, prev = [], chain.GENESIS
    for i in range(n):
        row = {
            "id": i + 1,
            "phone": f"+1415555{i:04d}",
            "event": "opt_out" if i % 2 == 0 else "opt_in",
            "source": "keyword",
            "keyword": "STOP",
            "message_sid": f"SM{i}",
            "request_hash": "ab" * 32,
            "recorded_at": f"2026-01-01T00:00:{i:02d}+00:00",
            "prev_hash": prev,
        }
        row["hash"] = chain.row_hash(prev, row)
        prev = row["hash"]
        out.append(row)
    return out


def test_an_intact_chain_verifies():
    assert chain.first_broken(rows(5)) is None


@pytest.mark.parametrize("field", ["phone", "event", "source", "keyword", "message_sid", "recorded_at"])
def test_an_edited_field_breaks_the_chain_at_that_row(field):
    data = rows(5)
    data[2][field] = "tampered"
    assert chain.first_broken(data) == (3, "hash does not match the row's contents (the row was edited)")


def test_a_deleted_row_breaks_the_chain_at_the_next_one():
    data = rows(5)
    del data[1]
    broken = chain.first_broken(data)
    assert broken is not None and broken[0] == 3 and "removed" in broken[1]


def test_recomputing_one_rows_hash_is_still_detected():
    data = rows(4)
    data[1]["event"] = "opt_out"
    data[1]["hash"] = chain.row_hash(data[1]["prev_hash"], data[1])
    assert chain.first_broken(data)[0] == 3


def consent_texts(client, n=6):
    for i in range(n):
        body = "STOP" if i % 2 == 0 else "START"
        assert (
            post_signed(
                client, inbound_form(sid=f"SMc{i}", sender=f"+1415555{i % 3:04d}", body=body)
            ).status_code
            == 200
        )


def test_verify_and_export_commands(app, client, runner):
    consent_texts(client)
    result = runner.invoke(args=["consent", "verify"])
    assert result.exit_code == 0 and "6 rows, chain intact" in result.output
    out = runner.invoke(args=["consent", "export"]).output
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == 6 and table[0]["phone"] == "+14155550000" and table[0]["event"] == "opt_out"
    only = list(
        csv.DictReader(
            io.StringIO(runner.invoke(args=["consent", "export", "--number", "+14155550001"]).output)
        )
    )
    assert [r["message_sid"] for r in only] == ["SMc1", "SMc4"]


@pytest.mark.skipif(not HAVE_PG, reason="the append-only trigger is Postgres's")
def test_postgres_refuses_updates_and_deletes_on_the_ledger(app, client):
    consent_texts(client, 2)
    with app.app_context():
        for stmt in ("UPDATE consent_events SET event = 'opt_in'", "DELETE FROM consent_events"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(sa.text(stmt))
            db.session.rollback()


def tamper(app, stmt: str) -> None:
    """What someone with owner rights could do: bypass the trigger and change a row."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                sa.text("ALTER TABLE consent_events DISABLE TRIGGER consent_events_append_only")
            )
        db.session.execute(sa.text(stmt))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                sa.text("ALTER TABLE consent_events ENABLE TRIGGER consent_events_append_only")
            )
        db.session.commit()


def test_verify_names_the_first_edited_row(app, client, runner):
    consent_texts(client)
    tamper(app, "UPDATE consent_events SET event = 'opt_in' WHERE id = 3")
    result = runner.invoke(args=["consent", "verify"])
    assert result.exit_code == 1
    assert "broken at row 3: hash does not match" in result.output


def test_verify_names_the_row_after_a_deleted_one(app, client, runner):
    consent_texts(client)
    tamper(app, "DELETE FROM consent_events WHERE id = 4")
    result = runner.invoke(args=["consent", "verify"])
    assert result.exit_code == 1 and "broken at row 5" in result.output


def test_the_ledger_keeps_the_request_hash(app, client):
    import hashlib

    form = inbound_form(sid="SMhash", body="STOP")
    post_signed(client, form)
    with app.app_context():
        event = db.session.scalars(sa.select(ConsentEvent)).one()
        from supportbot.models import Message

        raw = db.session.scalar(sa.select(Message.raw_body))
    assert event.request_hash == hashlib.sha256(raw).hexdigest()
