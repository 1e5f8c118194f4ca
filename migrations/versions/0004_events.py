"""events: templates, series, events, invitations, registrations, check-ins, feedback

Revision ID: 0004_events
Revises: 0003_points
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_events'
down_revision = '0003_points'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_series',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("frequency IN ('weekly', 'monthly')", name=op.f('ck_event_series_frequency_known')),
    sa.CheckConstraint('occurrences > 0', name=op.f('ck_event_series_occurrences_positive')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_event_series_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_event_series_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_series')),
    sa.UniqueConstraint('chapter_id', 'id', name='uq_event_series_chapter_id_id')
    )
    with op.batch_alter_table('event_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_series_chapter_id'), ['chapter_id'], unique=False)

    op.create_table('event_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('title_zh', sa.String(length=128), nullable=False),
    sa.Column('title_en', sa.String(length=128), nullable=True),
    sa.Column('description_zh', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('max_guests', sa.Integer(), nullable=False),
    sa.Column('attendance_points', sa.Integer(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('car_care', 'self_drive', 'gala', 'test_drive', 'other')", name=op.f('ck_event_templates_type_known')),
    sa.CheckConstraint('attendance_points >= 0', name=op.f('ck_event_templates_points_not_negative')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_event_templates_capacity_positive')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_event_templates_duration_positive')),
    sa.CheckConstraint('max_guests >= 0', name=op.f('ck_event_templates_guests_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_event_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_templates'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('title_zh', sa.String(length=128), nullable=False),
    sa.Column('title_en', sa.String(length=128), nullable=True),
    sa.Column('description_zh', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('rsvp_deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_guests', sa.Integer(), nullable=False),
    sa.Column('attendance_points', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('cancel_reason', sa.String(length=255), nullable=True),
    sa.Column('rsvp_seq', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('audience', sa.JSON(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name=op.f('ck_events_status_known')),
    sa.CheckConstraint("type IN ('car_care', 'self_drive', 'gala', 'test_drive', 'other')", name=op.f('ck_events_type_known')),
    sa.CheckConstraint('attendance_points >= 0', name=op.f('ck_events_points_not_negative')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_events_capacity_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_events_ends_after_start')),
    sa.CheckConstraint('max_guests >= 0', name=op.f('ck_events_guests_not_negative')),
    sa.ForeignKeyConstraint(['chapter_id', 'series_id'], ['event_series.chapter_id', 'event_series.id'], name='fk_events_series'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_events_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['event_templates.id'], name=op.f('fk_events_template_id_event_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('chapter_id', 'id', name='uq_events_chapter_id_id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_events_chapter_starts', ['chapter_id', 'starts_at'], unique=False)

    op.create_table('event_invitations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chapter_id', 'event_id'], ['events.chapter_id', 'events.id'], name='fk_event_invitations_event'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_event_invitations_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_event_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_event_invitations_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_invitations')),
    sa.UniqueConstraint('chapter_id', 'event_id', 'member_id', name='uq_event_invitations_member')
    )
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_invitations_chapter_id'), ['chapter_id'], unique=False)

    op.create_table('event_registrations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('walk_in_name', sa.String(length=128), nullable=True),
    sa.Column('walk_in_mobile', sa.String(length=11), nullable=True),
    sa.Column('walk_in', sa.Boolean(), nullable=False),
    sa.Column('guests', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('no_show', sa.Boolean(), nullable=False),
    sa.Column('points_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled')", name=op.f('ck_event_registrations_status_known')),
    sa.CheckConstraint('guests >= 0', name=op.f('ck_event_registrations_guests_not_negative')),
    sa.CheckConstraint('member_id IS NOT NULL OR walk_in_name IS NOT NULL', name=op.f('ck_event_registrations_member_or_walk_in')),
    sa.ForeignKeyConstraint(['chapter_id', 'event_id'], ['events.chapter_id', 'events.id'], name='fk_event_registrations_event'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_event_registrations_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['users.id'], name=op.f('fk_event_registrations_checked_in_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_event_registrations_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_registrations')),
    sa.UniqueConstraint('chapter_id', 'code', name='uq_event_registrations_code'),
    sa.UniqueConstraint('chapter_id', 'event_id', 'member_id', name='uq_event_registrations_member'),
    sa.UniqueConstraint('chapter_id', 'id', name='uq_event_registrations_chapter_id_id')
    )
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_registrations_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index('ix_event_registrations_member', ['member_id'], unique=False)
        batch_op.create_index('ix_event_registrations_queue', ['chapter_id', 'event_id', 'status', 'seq'], unique=False)

    op.create_table('event_feedback',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('registration_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=True),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_event_feedback_rating_range')),
    sa.ForeignKeyConstraint(['chapter_id', 'event_id'], ['events.chapter_id', 'events.id'], name='fk_event_feedback_event'),
    sa.ForeignKeyConstraint(['chapter_id', 'registration_id'], ['event_registrations.chapter_id', 'event_registrations.id'], name='fk_event_feedback_registration'),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_event_feedback_chapter_id_chapters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_event_feedback_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_feedback')),
    sa.UniqueConstraint('chapter_id', 'registration_id', name='uq_event_feedback_registration')
    )
    with op.batch_alter_table('event_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_event_feedback_chapter_event', ['chapter_id', 'event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_feedback_chapter_id'), ['chapter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('event_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_feedback_chapter_id'))
        batch_op.drop_index('ix_event_feedback_chapter_event')

    op.drop_table('event_feedback')
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_event_registrations_queue')
        batch_op.drop_index('ix_event_registrations_member')
        batch_op.drop_index(batch_op.f('ix_event_registrations_chapter_id'))

    op.drop_table('event_registrations')
    with op.batch_alter_table('event_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_invitations_chapter_id'))

    op.drop_table('event_invitations')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_chapter_starts')
        batch_op.drop_index(batch_op.f('ix_events_chapter_id'))

    op.drop_table('events')
    op.drop_table('event_templates')
    with op.batch_alter_table('event_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_series_chapter_id'))

    op.drop_table('event_series')
