"""Migrations: upgrade from empty on both databases; the models match the migrated schema."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import HAVE_PG, PG_URL, base_config, reset_database

from supportbot import create_app
from supportbot.extensions import db


def schema_diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, db.metadata)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_the_models(backend, tmp_path):
    if backend == "postgresql":
        if not HAVE_PG:
            pytest.skip("needs Postgres")
        # a database of its own, so that the shared test schema is left alone
        # (named after the test database, so that two checkouts' suites never share it)
        name = PG_URL.rsplit("/", 1)[1] + "_migrations"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app(base_config(tmp_path, DATABASE_URL=url))
    reset_database(app)
    try:
        assert schema_diff(app) == []
        with app.app_context():
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"messages", "tickets", "contacts", "consent_events", "outbox"} <= tables
    finally:
        with app.app_context():
            db.engine.dispose()
