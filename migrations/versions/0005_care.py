"""messaging outbox and the daily care list

Revision ID: 0005_care
Revises: 0004_events
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_care'
down_revision = '0004_events'
branch_labels = None
depends_on = None


def upgrade():
    _outbox()
    _care()


def downgrade():
    with op.batch_alter_table('service_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_service_feedback_chapter_recorded')
        batch_op.drop_index(batch_op.f('ix_service_feedback_chapter_id'))
        batch_op.drop_index('ix_service_feedback_chapter_advisor')

    op.drop_table('service_feedback')
    with op.batch_alter_table('care_tasks', schema=None) as batch_op:
        batch_op.drop_index('uq_care_tasks_chapter_source', sqlite_where=sa.text("source_key <> ''"), postgresql_where=sa.text("source_key <> ''"))
        batch_op.drop_index('ix_care_tasks_chapter_status_sched')
        batch_op.drop_index(batch_op.f('ix_care_tasks_chapter_id'))
        batch_op.drop_index('ix_care_tasks_chapter_due')
        batch_op.drop_index('ix_care_tasks_chapter_done')
        batch_op.drop_index('ix_care_tasks_chapter_assignee')

    op.drop_table('care_tasks')
    with op.batch_alter_table('chapter_care_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chapter_care_rules_chapter_id'))

    op.drop_table('chapter_care_rules')
    with op.batch_alter_table('care_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_runs_chapter_id'))

    op.drop_table('care_runs')
    op.drop_table('care_rules')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_chapter_status_due')
        batch_op.drop_index('ix_outbox_messages_chapter_member')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_chapter_id'))
    op.drop_table('outbox_messages')


def _outbox():
    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('template', sa.String(length=160), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('provider_ref', sa.String(length=128), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('portal', 'email', 'sms')", name=op.f('ck_outbox_messages_channel_known')),
    sa.CheckConstraint("status IN ('queued', 'claimed', 'sent', 'failed', 'skipped')", name=op.f('ck_outbox_messages_status_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts_not_negative')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_outbox_messages_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_outbox_messages_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('chapter_id', 'dedupe_key', name='uq_outbox_messages_chapter_id_key')
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_outbox_messages_chapter_member', ['chapter_id', 'member_id', 'channel', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_chapter_status_due', ['chapter_id', 'status', 'not_before'], unique=False)


def _care():
    op.create_table('care_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone', 'sms', 'email', 'visit')", name=op.f('ck_care_rules_channel_known')),
    sa.CheckConstraint("kind IN ('birthday', 'car_birthday', 'after_delivery', 'vip', 'insurance', 'inspection', 'maintenance', 'follow_up', 'manual')", name=op.f('ck_care_rules_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_rules')),
    sa.UniqueConstraint('code', name='uq_care_rules_code')
    )
    op.create_table('care_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('tasks_added', sa.Integer(), nullable=False),
    sa.Column('greetings_queued', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_care_runs_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_runs')),
    sa.UniqueConstraint('chapter_id', 'day', name='uq_care_runs_chapter_id_day')
    )
    with op.batch_alter_table('care_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_runs_chapter_id'), ['chapter_id'], unique=False)

    op.create_table('chapter_care_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone', 'sms', 'email', 'visit')", name=op.f('ck_chapter_care_rules_channel_known')),
    sa.CheckConstraint("kind IN ('birthday', 'car_birthday', 'after_delivery', 'vip', 'insurance', 'inspection', 'maintenance', 'follow_up', 'manual')", name=op.f('ck_chapter_care_rules_kind_known')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_chapter_care_rules_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chapter_care_rules')),
    sa.UniqueConstraint('chapter_id', 'code', name='uq_chapter_care_rules_chapter_id_code')
    )
    with op.batch_alter_table('chapter_care_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chapter_care_rules_chapter_id'), ['chapter_id'], unique=False)

    op.create_table('care_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('vehicle_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=48), nullable=False),
    sa.Column('rule_code', sa.String(length=32), nullable=True),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=128), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('source_key', sa.String(length=128), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone', 'sms', 'email', 'visit')", name=op.f('ck_care_tasks_channel_known')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('reached', 'no_answer', 'wrong_number', 'appointment_booked', 'complaint_raised')", name=op.f('ck_care_tasks_outcome_known')),
    sa.CheckConstraint("status <> 'done' OR outcome IS NOT NULL", name=op.f('ck_care_tasks_done_has_outcome')),
    sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name=op.f('ck_care_tasks_status_known')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_care_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['chapter_id', 'owner_id'], ['owners.chapter_id', 'owners.id'], name='fk_care_tasks_owner'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_care_tasks_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_care_tasks_done_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_tasks')),
    sa.UniqueConstraint('chapter_id', 'owner_id', 'reason', 'due_on', 'source_key', name='uq_care_tasks_chapter_id_owner_reason_due')
    )
    with op.batch_alter_table('care_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_care_tasks_chapter_assignee', ['chapter_id', 'assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_care_tasks_chapter_done', ['chapter_id', 'done_on'], unique=False)
        batch_op.create_index('ix_care_tasks_chapter_due', ['chapter_id', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_tasks_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_care_tasks_chapter_status_sched', ['chapter_id', 'status', 'scheduled_on'], unique=False)
        batch_op.create_index('uq_care_tasks_chapter_source', ['chapter_id', 'source_key'], unique=True, sqlite_where=sa.text("source_key <> ''"), postgresql_where=sa.text("source_key <> ''"))

    op.create_table('service_feedback',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('visit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.Column('advisor_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_service_feedback_score_range')),
    sa.ForeignKeyConstraint(['advisor_id'], ['users.id'], name=op.f('fk_service_feedback_advisor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_service_feedback_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_service_feedback_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['service_visits.id'], name=op.f('fk_service_feedback_visit_id_service_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_feedback')),
    sa.UniqueConstraint('chapter_id', 'visit_id', name='uq_service_feedback_chapter_id_visit')
    )
    with op.batch_alter_table('service_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_service_feedback_chapter_advisor', ['chapter_id', 'advisor_id', 'recorded_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_feedback_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_service_feedback_chapter_recorded', ['chapter_id', 'recorded_at'], unique=False)
