"""indexes for the member list of a large chapter

Revision ID: 0011_list_indexes
Revises: 0010_resilience
Create Date: 2026-11-25 01:00:00.000000

- ``members (chapter_id, joined_on, id)``: the chapter's member list, newest first, reads
  its page (read backwards) instead of sorting every member of the chapter;
- ``members (chapter_id, status)``: the list's status counts and its total are read from
  the index alone.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_list_indexes'
down_revision = '0010_resilience'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_members_chapter_joined', 'members', ['chapter_id', 'joined_on', 'id'],
                    unique=False)
    op.create_index('ix_members_chapter_status', 'members', ['chapter_id', 'status'],
                    unique=False)


def downgrade():
    op.drop_index('ix_members_chapter_status', table_name='members')
    op.drop_index('ix_members_chapter_joined', table_name='members')
