"""complaints and service satisfaction

Revision ID: 0006_complaints
Revises: 0005_care
Create Date: 2026-11-24 09:00:00.000000

Tables of chapter/complaints: complaint_settings (a chapter's limits), complaints,
complaint_contacts (each complaint's timeline). Service satisfaction is read from the
care list's follow-up table (0005_care); nothing of it is created here.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0006_complaints'
down_revision = '0005_care'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_limit_days', sa.Integer(), nullable=False),
    sa.Column('goodwill_limit_points', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('goodwill_limit_points >= 0', name=op.f('ck_complaint_settings_goodwill_not_negative')),
    sa.CheckConstraint('open_limit_days > 0', name=op.f('ck_complaint_settings_limit_positive')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_complaint_settings_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_settings')),
    sa.UniqueConstraint('chapter_id', name='uq_complaint_settings_chapter_id')
    )
    with op.batch_alter_table('complaint_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_settings_chapter_id'), ['chapter_id'], unique=False)
    op.create_table('complaints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('vehicle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=24), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('raised_by', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ack_minutes', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('callback_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_reason', sa.String(length=24), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('goodwill_kind', sa.String(length=8), nullable=False),
    sa.Column('goodwill_points', sa.Integer(), nullable=False),
    sa.Column('goodwill_reason', sa.String(length=255), nullable=True),
    sa.Column('voucher_note', sa.String(length=255), nullable=True),
    sa.Column('satisfaction', sa.SmallInteger(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_minutes', sa.Integer(), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("cause IN ('product_quality', 'repair_quality', 'staff_mistake', 'service_attitude', 'beyond_policy')", name=op.f('ck_complaints_cause_known')),
    sa.CheckConstraint("channel IN ('phone', 'in_person', 'online', 'hq_hotline')", name=op.f('ck_complaints_channel_known')),
    sa.CheckConstraint("escalation_reason IS NULL OR escalation_reason IN ('promise_missed', 'open_too_long', 'not_acknowledged')", name=op.f('ck_complaints_escalation_known')),
    sa.CheckConstraint("goodwill_kind IN ('none', 'points', 'voucher')", name=op.f('ck_complaints_goodwill_known')),
    sa.CheckConstraint("raised_by IN ('staff', 'member', 'hq')", name=op.f('ck_complaints_raised_by_known')),
    sa.CheckConstraint("severity IN ('low', 'medium', 'high')", name=op.f('ck_complaints_severity_known')),
    sa.CheckConstraint("status <> 'closed' OR (resolution IS NOT NULL AND closed_at IS NOT NULL)", name=op.f('ck_complaints_closed_has_resolution')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_complaints_status_known')),
    sa.CheckConstraint('goodwill_points >= 0', name=op.f('ck_complaints_goodwill_not_negative')),
    sa.CheckConstraint('reopen_count >= 0', name=op.f('ck_complaints_reopen_not_negative')),
    sa.CheckConstraint('satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5', name=op.f('ck_complaints_satisfaction_range')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_complaints_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['chapter_id', 'owner_id'], ['owners.chapter_id', 'owners.id'], name='fk_complaints_owner'),
    sa.ForeignKeyConstraint(['chapter_id', 'vehicle_id'], ['vehicles.chapter_id', 'vehicles.id'], name='fk_complaints_vehicle'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_complaints_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_complaints_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['service_visits.id'], name=op.f('fk_complaints_visit_id_service_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('chapter_id', 'id', name='uq_complaints_chapter_id_id')
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_chapter_assignee', ['chapter_id', 'assignee_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_complaints_chapter_owner', ['chapter_id', 'owner_id', 'status'], unique=False)
        batch_op.create_index('ix_complaints_chapter_received', ['chapter_id', 'received_on'], unique=False)
        batch_op.create_index('ix_complaints_chapter_status_due', ['chapter_id', 'status', 'callback_due_at'], unique=False)
    op.create_table('complaint_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('complaint_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('visible_to_owner', sa.Boolean(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('received', 'acknowledged', 'contact', 'promise', 'assigned', 'escalated', 'closed', 'reopened')", name=op.f('ck_complaint_contacts_kind_known')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_complaint_contacts_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['chapter_id', 'complaint_id'], ['complaints.chapter_id', 'complaints.id'], name='fk_complaint_contacts_complaint'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_complaint_contacts_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_contacts'))
    )
    with op.batch_alter_table('complaint_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_contacts_chapter_complaint', ['chapter_id', 'complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_contacts_chapter_id'), ['chapter_id'], unique=False)


def downgrade():
    with op.batch_alter_table('complaint_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_contacts_chapter_id'))
        batch_op.drop_index('ix_complaint_contacts_chapter_complaint')
    op.drop_table('complaint_contacts')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_chapter_status_due')
        batch_op.drop_index('ix_complaints_chapter_received')
        batch_op.drop_index('ix_complaints_chapter_owner')
        batch_op.drop_index(batch_op.f('ix_complaints_chapter_id'))
        batch_op.drop_index('ix_complaints_chapter_assignee')
    op.drop_table('complaints')
    with op.batch_alter_table('complaint_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_settings_chapter_id'))
    op.drop_table('complaint_settings')
