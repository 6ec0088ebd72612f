"""The consent ledger: a hash chain that shows any edit or deletion; CSV export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from helpers import HAVE_PG, inbound_form, post_signed

from supportbot.consent import chain, ledger
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


@pytest.mark.skipif(not HAVE_PG, reason="the append-only triggers are Postgres's")
def test_postgres_refuses_truncate_on_the_ledger(app, client):
    consent_texts(client, 2)
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text("TRUNCATE consent_events"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) == 2


def checkpoint(runner) -> str:
    out = runner.invoke(args=["consent", "checkpoint"]).output.strip()
    rows, head = out.split()
    assert rows.startswith("rows=") and head.startswith("head=")
    return f"{rows[5:]}:{head[5:]}"


@pytest.mark.parametrize(
    "cut",
    [
        "DELETE FROM consent_events WHERE id = (SELECT max(id) FROM consent_events)",
        "TRUNCATE consent_events",
    ],
)
def test_a_cut_tail_passes_the_chain_but_not_a_kept_checkpoint(app, client, runner, cut):
    consent_texts(client)
    kept = checkpoint(runner)
    assert kept.startswith("6:")
    assert runner.invoke(args=["consent", "verify", "--checkpoint", kept]).exit_code == 0
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))  # every trigger off
        db.session.execute(
            sa.text(cut if db.engine.dialect.name == "postgresql" else "DELETE FROM consent_events")
        )
        db.session.commit()
    with app.app_context():
        assert ledger.verify() is None  # what is left is a whole chain...
    result = runner.invoke(args=["consent", "verify", "--checkpoint", kept])
    assert result.exit_code == 1 and "cut short" in result.output  # ...but not the one we kept


def test_a_rewritten_ledger_fails_a_kept_checkpoint(app, client, runner):
    consent_texts(client, 2)
    kept = checkpoint(runner)
    rows, head = kept.split(":")
    result = runner.invoke(args=["consent", "verify", "--checkpoint", f"{rows}:{'0' * 64}"])
    assert result.exit_code == 1 and "does not carry the checkpoint's hash" in result.output
    bad = runner.invoke(args=["consent", "verify", "--checkpoint", "two:abc"])
    assert bad.exit_code == 2 and "ROWS:HASH" in bad.output


def test_every_append_publishes_a_checkpoint_after_commit(app, client, runner, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="supportbot.consent.ledger")
    consent_texts(client, 2)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("consent checkpoint")]
    rows, head = checkpoint(runner).split(":")
    assert lines[-1] == f"consent checkpoint rows={rows} head={head}" and len(lines) == 2
    caplog.clear()
    runner.invoke(args=["keywords", "try", "STOP", "--from", "+14155550123"])  # rolled back
    assert not [r for r in caplog.records if r.getMessage().startswith("consent checkpoint")]


def test_a_flag_changed_outside_the_ledger_never_reenables_sending(app, client, runner):
    """UPDATE contacts SET opted_out = false on a number that texted STOP."""
    from supportbot.outbound.pipeline import queue_sms, send_one

    post_signed(client, inbound_form(sid="SMstop", body="STOP"))
    with app.app_context():
        db.session.execute(sa.text("UPDATE contacts SET opted_out = false"))
        db.session.commit()
    result = runner.invoke(args=["consent", "verify"])
    assert result.exit_code == 1 and "marked opted in but the ledger says otherwise" in result.output
    assert "+14155550123" not in result.output
    with app.app_context():
        (message_id,) = queue_sms("+14155550123", "we miss you", key="tamper-test", ticket_id=None)
        db.session.commit()
        send_one(message_id)
        db.session.commit()
        from supportbot.models import Message

        assert db.session.get(Message, message_id).status == "blocked"
    # and the bot does not answer the number's next text either
    resp = post_signed(client, inbound_form(sid="SMafter", body="HOURS"))
    assert "<Message>" not in resp.get_data(as_text=True)
