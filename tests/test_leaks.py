"""Numbers and bodies never reach logs or stored errors through database errors
(issue 7, case 2). A trigger makes Postgres refuse the insert that carries them."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from helpers import HAVE_PG, HAVE_REDIS, inbound_form, post_signed
from rq.job import Job

from supportbot.extensions import db
from supportbot.jobs import queues
from supportbot.models import Outbox

pytestmark = pytest.mark.skipif(not (HAVE_PG and HAVE_REDIS), reason="needs Postgres and Redis")

NUMBER = "+14155550177"
SECRET = "my SSN is 078-05-1120"


@pytest.fixture
def refuse_inserts(make_app):
    """A trigger that fails every insert of a message in one direction, as a dying backend would."""
    made = []

    def install(app, direction: str) -> None:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE OR REPLACE FUNCTION refuse_for_test() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused for the test'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_for_test BEFORE INSERT ON messages FOR EACH ROW "
                    f"WHEN (NEW.direction = '{direction}') EXECUTE FUNCTION refuse_for_test()"
                )
            )
        made.append(app)

    yield install
    for app in made:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER IF EXISTS refuse_for_test ON messages"))
            conn.execute(sa.text("DROP FUNCTION IF EXISTS refuse_for_test()"))


def assert_clean(text: str) -> None:
    assert NUMBER not in text and NUMBER[1:] not in text
    assert "078-05-1120" not in text


def test_a_database_error_on_the_inbound_path_leaks_nothing(make_app, refuse_inserts, caplog, capsys):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered and logged as in production
    refuse_inserts(app, "in")
    caplog.set_level(logging.DEBUG)
    resp = post_signed(app.test_client(), inbound_form(sender=NUMBER, body=SECRET))
    assert resp.status_code == 500
    assert "refused for the test" in caplog.text  # the error was logged...
    assert_clean(caplog.text)  # ...without its parameters
    assert_clean(capsys.readouterr().out)
    assert_clean(resp.get_data(as_text=True))


def test_a_database_error_in_a_job_leaks_nothing(desk, refuse_inserts, caplog, capsys, redis_conn):
    d = desk(JOB_RETRY_INTERVALS="1")
    key = d.open_ticket(sender=NUMBER)
    refuse_inserts(d.app, "out")
    caplog.set_level(logging.DEBUG)
    d.agent_says(key, f"We checked: {SECRET}, and {NUMBER} is verified")
    d.settle(lambda: any("could not be sent" in c for c in d.comments(key)), "the failure note", 30)
    with d.app.app_context():
        errors = db.session.scalars(sa.select(Outbox.last_error).where(Outbox.last_error.is_not(None))).all()
    assert errors and all("refused for the test" in e for e in errors)
    for stored in errors:
        assert_clean(stored)
    for comment in d.comments(key):
        if "could not be sent" in comment:
            assert_clean(comment)
    # what RQ keeps in Redis of each failed attempt: the traceback it was raised with
    with d.app.app_context():
        ids = db.session.scalars(sa.select(Outbox.id).where(Outbox.kind == "agent_reply")).all()
        kept = [
            result.exc_string or ""
            for outbox_id in ids
            for result in Job.fetch(queues.job_id(outbox_id), connection=redis_conn).results()
        ]
    assert kept and all("refused for the test" in text for text in kept)
    for text in kept:
        assert_clean(text)
    assert "refused for the test" in caplog.text
    assert_clean(caplog.text)
    assert_clean(capsys.readouterr().out)
