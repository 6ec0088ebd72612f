"""CLI commands: keywords check and try."""

from __future__ import annotations

from helpers import ROOT

from supportbot.extensions import db
from supportbot.models import Message, Ticket


def test_keywords_check_accepts_the_shipped_file(runner):
    result = runner.invoke(args=["keywords", "check", str(ROOT / "keywords.yaml")])
    assert result.exit_code == 0 and "ok, 6 keywords" in result.output


def test_keywords_check_exits_1_with_each_reason(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (ROOT / "keywords.yaml").read_text().replace('"YES"', "YES").replace("action: reply", "action: nope")
    )
    lines = bad.read_text().splitlines()
    yes_line = next(i for i, line in enumerate(lines, 1) if "YES" in line)
    nope_line = next(i for i, line in enumerate(lines, 1) if "action: nope" in line)
    result = runner.invoke(args=["keywords", "check", str(bad)])
    assert result.exit_code == 1
    # each reason once, with its file and line, and nothing else
    assert result.output.strip().splitlines() == [
        f"{bad}:{yes_line}: each of the aliases of START must be a string, got 'YES' (quote it)",
        f"{bad}:{nope_line}: unknown action 'nope'; known: "
        "reply, opt_out, opt_in, help, ticket, ticket_status, ack",
    ]


def test_keywords_try_shows_route_and_reply_and_changes_nothing(app, runner):
    result = runner.invoke(args=["keywords", "try", "hello there", "--from", "+14155550123"])
    assert result.exit_code == 0, result.output
    assert "route: * -> ticket" in result.output
    assert "reply: Thanks! Ticket SB-" in result.output
    result = runner.invoke(args=["keywords", "try", "STATUS SB-12", "--from", "+14155550123"])
    assert "route: STATUS -> ticket_status ['SB-12']" in result.output
    assert "reply: Text STATUS and your ticket number" in result.output
    with app.app_context():
        assert db.session.query(Message).count() == 0 and db.session.query(Ticket).count() == 0
