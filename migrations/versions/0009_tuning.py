"""import and settlement tuning

Revision ID: 0009_tuning
Revises: 0008_churn
Create Date: 2026-11-24 09:00:00.000000

- owners, vehicles, service visits: no single-column ``chapter_id`` index (their
  composite indexes lead with ``chapter_id``); one index less for every imported row;
- settlement watermark: ``entries_through`` on chapter and partner statements, and the
  partial indexes a draft reads the entries posted since the watermark by.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_tuning'
down_revision = '0008_churn'
branch_labels = None
depends_on = None

SETTLES_AT_CHAPTER = ("(kind = 'redeem' AND venue = 'dealer')"
                      " OR (kind IN ('earn', 'adjust') AND funder = 'chapter')")
SETTLES_AT_PARTNER = "kind = 'redeem' AND venue = 'partner'"
REDUNDANT = (('owners', 'ix_owners_chapter_id'), ('vehicles', 'ix_vehicles_chapter_id'),
             ('service_visits', 'ix_service_visits_chapter_id'))


def upgrade():
    for table, name in REDUNDANT:
        op.drop_index(name, table_name=table, if_exists=True)
    op.create_index('ix_point_entries_settle_since', 'point_entries', ['chapter_id', 'id'],
                    unique=False, postgresql_where=sa.text(SETTLES_AT_CHAPTER),
                    sqlite_where=sa.text(SETTLES_AT_CHAPTER))
    op.create_index('ix_point_entries_partner_settle_since', 'point_entries',
                    ['partner_id', 'id'], unique=False,
                    postgresql_where=sa.text(SETTLES_AT_PARTNER),
                    sqlite_where=sa.text(SETTLES_AT_PARTNER))
    for table in ('chapter_statements', 'partner_statements'):
        op.add_column(table, sa.Column('entries_through', sa.BigInteger(), nullable=True))


def downgrade():
    for table in ('partner_statements', 'chapter_statements'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('entries_through')
    op.drop_index('ix_point_entries_partner_settle_since', table_name='point_entries',
                  postgresql_where=sa.text(SETTLES_AT_PARTNER),
                  sqlite_where=sa.text(SETTLES_AT_PARTNER))
    op.drop_index('ix_point_entries_settle_since', table_name='point_entries',
                  postgresql_where=sa.text(SETTLES_AT_CHAPTER),
                  sqlite_where=sa.text(SETTLES_AT_CHAPTER))
    for table, name in reversed(REDUNDANT):
        op.create_index(name, table, ['chapter_id'], unique=False, if_not_exists=True)
