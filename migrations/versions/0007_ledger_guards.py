"""consent ledger: refuse TRUNCATE, number the rows, index the newest event per number

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

"""
from alembic import op
import sqlalchemy as sa

# reviewed by hand: the seq backfill must pass the append-only trigger, so it is
# switched off for that one statement inside this migration's transaction


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
    if pg:
        op.execute("ALTER TABLE consent_events DISABLE TRIGGER consent_events_append_only")
    op.execute(
        "UPDATE consent_events SET seq = (SELECT count(*) FROM consent_events AS e "
        "WHERE e.id <= consent_events.id)"
    )
    if pg:
        op.execute("ALTER TABLE consent_events ENABLE TRIGGER consent_events_append_only")
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint('consent_events_seq_key', ['seq'])
        # the send-time consent check reads the newest event of one number
        batch_op.drop_index(batch_op.f('ix_consent_events_phone'))
        batch_op.create_index('ix_consent_events_phone_id', ['phone', 'id'], unique=False)
    if pg:
        # TRUNCATE bypasses row triggers: a statement trigger refuses it too
        op.execute("""
            CREATE TRIGGER consent_events_no_truncate
            BEFORE TRUNCATE ON consent_events
            FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consent_events_no_truncate ON consent_events")
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_events_phone_id')
        batch_op.create_index(batch_op.f('ix_consent_events_phone'), ['phone'], unique=False)
        batch_op.drop_constraint('consent_events_seq_key', type_='unique')
        batch_op.drop_column('seq')
