"""Keyword configuration as versions in the database: seed, publish, stale drafts, limits, CLI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from helpers import ROOT, inbound_form, post_signed

from supportbot.extensions import db
from supportbot.keywords import limits, versions
from supportbot.keywords.schema import KeywordConfigError, parse
from supportbot.models import KeywordVersion

GOOD = (ROOT / "keywords.yaml").read_text()
HOURS = "We answer texts Mon-Fri 8am-6pm Pacific."


def hours_reply(client, n: int) -> str:
    resp = post_signed(client, inbound_form(sid=f"SM{n:032d}", body="hours"))
    assert resp.status_code == 200
    return resp.data.decode()


def test_an_empty_database_imports_the_file_as_version_1(app, client):
    assert HOURS in hours_reply(client, 1)
    with app.app_context():
        row = db.session.scalars(sa.select(KeywordVersion)).one()
        assert (row.id, row.published, row.author, row.parent_id) == (1, True, "seed", None)
        assert row.yaml == GOOD


def test_a_published_version_answers_at_once_and_the_file_no_longer_counts(app, client, tmp_path):
    hours_reply(client, 1)
    with app.app_context():
        row = versions.publish(GOOD.replace(HOURS, "Open all night."), "a@x", "night shift", base_id=1)
        assert (row.id, row.parent_id, row.comment) == (2, 1, "night shift")
    (tmp_path / "keywords.yaml").write_text(GOOD.replace(HOURS, "From the file."))
    assert "Open all night." in hours_reply(client, 2)
    with app.app_context():
        published = db.session.scalars(sa.select(KeywordVersion).where(KeywordVersion.published)).all()
        assert [r.id for r in published] == [2]


def test_the_database_refuses_a_second_published_version(app):
    with app.app_context():
        app.extensions["keywords"].get()
        db.session.add(KeywordVersion(yaml=GOOD, author="x", comment="", published=True))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_stale_draft_is_refused_with_what_changed(app):
    with app.app_context():
        app.extensions["keywords"].get()
        versions.publish(GOOD.replace(HOURS, "Noon to two."), "a@x", "first", base_id=1)
        with pytest.raises(versions.StaleBase) as info:
            versions.publish(GOOD.replace("Acme Support", "Beta"), "b@x", "second", base_id=1)
        assert info.value.current.id == 2
        assert f'-    reply: "{HOURS}"' in info.value.diff and '+    reply: "Noon to two."' in info.value.diff
        assert versions.published_id() == 2


def test_nothing_invalid_can_be_published(app):
    with app.app_context():
        app.extensions["keywords"].get()
        with pytest.raises(KeywordConfigError) as info:
            versions.publish(GOOD.replace("action: reply", "action: dance"), "a@x", "oops", base_id=1)
        assert "draft:" in str(info.value) and "unknown action 'dance'" in str(info.value)
        assert versions.published_id() == 1 and db.session.query(KeywordVersion).count() == 1


def test_over_256_kib_is_refused_with_the_size():
    text = GOOD + "#" + "x" * (limits.MAX_BYTES) + "\n"
    with pytest.raises(KeywordConfigError) as info:
        parse(text, "big.yaml")
    assert "the limit is 262,144 (256 KiB)" in str(info.value)


def test_more_than_5000_keywords_is_refused():
    extra = "".join(f"  - {{keyword: K{i}, action: reply, reply: r}}\n" for i in range(5001))
    text = GOOD.replace("default:", extra + "default:", 1)
    assert len(text.encode()) < limits.MAX_BYTES
    with pytest.raises(KeywordConfigError) as info:
        parse(text, "many.yaml")
    assert "5,007 keywords; the limit is 5,000" in str(info.value)


def test_a_billion_laughs_is_refused_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(KeywordConfigError) as info:
        parse(bomb, "bomb.yaml")
    assert "anchors and aliases expand to over 100,000 nodes" in str(info.value)


def test_a_recursive_alias_is_refused():
    with pytest.raises(KeywordConfigError) as info:
        parse("program: &a [*a]\n", "loop.yaml")
    assert "refers to itself" in str(info.value)


def test_a_few_harmless_aliases_still_load():
    text = GOOD.replace("aliases: [INFO]", "aliases: &info [INFO]")
    assert parse(text).exact["INFO"].action == "help"


def test_cli_publish_export_check_and_try(app, runner, tmp_path):
    with app.app_context():
        app.extensions["keywords"].get()
    draft = tmp_path / "draft.yaml"
    draft.write_text(GOOD.replace(HOURS, "Nine to five."))
    result = runner.invoke(args=["keywords", "publish", str(draft), "--comment", "from CI"])
    assert result.exit_code == 0 and "published version 2 (parent 1)" in result.output, result.output
    result = runner.invoke(args=["keywords", "export"])
    assert result.output == draft.read_text()
    result = runner.invoke(args=["keywords", "export", "--version", "1"])
    assert result.output == GOOD
    result = runner.invoke(args=["keywords", "check"])
    assert result.exit_code == 0 and result.output.startswith("version 2: ok, 6 keywords")
    result = runner.invoke(args=["keywords", "try", "hours", "--from", "+14155550123"])
    assert "reply: Nine to five." in result.output
    result = runner.invoke(
        args=["keywords", "try", "hours", "--from", "+14155550123", "--file", str(ROOT / "keywords.yaml")]
    )
    assert f"reply: {HOURS}" in result.output
    with app.app_context():
        from supportbot.models import AuditEntry

        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.target, entry.detail) == ("publish", "keywords version 2", "from CI")


def test_cli_publish_refuses_a_bad_file_and_a_stale_base(app, runner, tmp_path):
    with app.app_context():
        app.extensions["keywords"].get()
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("action: reply", "action: dance"))
    result = runner.invoke(args=["keywords", "publish", str(bad), "--comment", "x"])
    assert result.exit_code == 1 and f"{bad}:" in result.output and "unknown action" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.replace(HOURS, "Later."))
    assert (
        runner.invoke(args=["keywords", "publish", str(good), "--comment", "x", "--base", "1"]).exit_code == 0
    )
    result = runner.invoke(args=["keywords", "publish", str(good), "--comment", "y", "--base", "1"])
    assert result.exit_code == 1 and "version 2 is published now" in result.output
    assert '+    reply: "Later."' in result.output


def test_readyz_says_where_the_configuration_comes_from(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert "keywords: version 1, published in the database (the source of truth)" in resp.data.decode()
