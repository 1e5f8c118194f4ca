"""churn, segmentation and RFM

Revision ID: 0008_churn
Revises: 0007_analytics
Create Date: 2026-11-24 09:00:00.000000

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0008_churn'
down_revision = '0007_analytics'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('churn_settings',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_churn_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_churn_settings'))
    )
    op.create_table('churn_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('loyalty', sa.String(length=1), nullable=False),
    sa.Column('value', sa.String(length=1), nullable=False),
    sa.Column('owners', sa.Integer(), nullable=False),
    sa.Column('spend_fen', sa.BigInteger(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_churn_snapshots_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_churn_snapshots')),
    sa.UniqueConstraint('chapter_id', 'month', 'loyalty', 'value', name='uq_churn_snapshots_cell')
    )
    with op.batch_alter_table('churn_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_churn_snapshots_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_churn_snapshots_month', ['chapter_id', 'month'], unique=False)

    # person lookups across chapters ("also serviced at another dealer")
    # (the owner's chapter and id in the index: a look-up reads the index alone)
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.create_index('ix_owners_person_mobile', ['mobile', 'chapter_id', 'id'], unique=False)
        batch_op.create_index('ix_owners_person_id_digest', ['id_number_digest', 'chapter_id', 'id'], unique=False)
    # covering index of the per-owner visit aggregate (read without the table)
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.create_index('ix_service_visits_churn', ['chapter_id', 'owner_id', 'visit_date', 'amount_fen'], unique=False)


def downgrade():
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_service_visits_churn')
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_index('ix_owners_person_id_digest')
        batch_op.drop_index('ix_owners_person_mobile')
    with op.batch_alter_table('churn_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_churn_snapshots_month')
        batch_op.drop_index(batch_op.f('ix_churn_snapshots_chapter_id'))
    op.drop_table('churn_snapshots')
    op.drop_table('churn_settings')
