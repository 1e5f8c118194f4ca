"""platform analytics: status history and month-end snapshots

Revision ID: 0007_analytics
Revises: 0006_complaints
Create Date: 2026-11-24 09:00:00.000000

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_analytics'
down_revision = '0006_complaints'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dealer_after_sales_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dealer_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_dealer_after_sales_periods_period_order')),
    sa.ForeignKeyConstraint(['dealer_id'], ['dealers.id'], name=op.f('fk_dealer_after_sales_periods_dealer_id_dealers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dealer_after_sales_periods')),
    sa.UniqueConstraint('dealer_id', 'valid_from', name='uq_dealer_after_sales_periods_start')
    )
    with op.batch_alter_table('dealer_after_sales_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dealer_after_sales_periods_dealer_id'), ['dealer_id'], unique=False)

    op.create_table('analytics_months',
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('job', 'backfill', 'resnapshot')", name=op.f('ck_analytics_months_source_known')),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], name=op.f('fk_analytics_months_taken_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('month_end', name=op.f('pk_analytics_months'))
    )
    op.create_table('analytics_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month_end', sa.Date(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('chapters', sa.Integer(), nullable=False),
    sa.Column('dealers_full_after_sales', sa.Integer(), nullable=False),
    sa.Column('join_rate_bp', sa.Integer(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('pending_applications', sa.Integer(), nullable=False),
    sa.Column('new_members', sa.Integer(), nullable=False),
    sa.Column('owners', sa.Integer(), nullable=False),
    sa.Column('recruitment_rate_bp', sa.Integer(), nullable=True),
    sa.Column('referral_purchases', sa.Integer(), nullable=False),
    sa.Column('referral_purchases_ytd', sa.Integer(), nullable=False),
    sa.CheckConstraint("level IN ('chapter', 'region', 'nation')", name=op.f('ck_analytics_snapshots_level_known')),
    sa.ForeignKeyConstraint(['month_end'], ['analytics_months.month_end'], name=op.f('fk_analytics_snapshots_month_end_analytics_months'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_snapshots')),
    sa.UniqueConstraint('month_end', 'level', 'scope_id', name='uq_analytics_snapshots_scope')
    )
    with op.batch_alter_table('analytics_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_snapshots_trend', ['level', 'scope_id', 'month_end'], unique=False)

    # the history starts with each dealer's current period (last day inclusive on the
    # dealer row, first day without the function exclusive here)
    conn = op.get_bind()
    dealers = sa.table('dealers', sa.column('id', sa.Integer), sa.column('created_at'),
                       sa.column('full_after_sales_since', sa.Date),
                       sa.column('full_after_sales_until', sa.Date))
    periods = sa.table('dealer_after_sales_periods', sa.column('dealer_id', sa.Integer),
                       sa.column('valid_from', sa.Date), sa.column('valid_to', sa.Date),
                       sa.column('created_at'))
    rows = conn.execute(sa.select(dealers.c.id, dealers.c.full_after_sales_since,
                                  dealers.c.full_after_sales_until, dealers.c.created_at)
                        .where(dealers.c.full_after_sales_since.is_not(None))).all()
    if rows:
        op.bulk_insert(periods, [
            {"dealer_id": d, "valid_from": since,
             "valid_to": until + timedelta(days=1) if until else None, "created_at": created}
            for d, since, until, created in rows])


def downgrade():
    with op.batch_alter_table('analytics_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_snapshots_trend')
    op.drop_table('analytics_snapshots')
    op.drop_table('analytics_months')
    with op.batch_alter_table('dealer_after_sales_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dealer_after_sales_periods_dealer_id'))
    op.drop_table('dealer_after_sales_periods')
