"""person indexes compared byte by byte

Revision ID: 0012_person_keys
Revises: 0011_list_indexes
Create Date: 2026-11-25 01:30:00.000000

The churn matrix looks up, for every owner of a chapter who came back on schedule,
whether the same person (mobile or ID-number digest) is an owner serviced at another
chapter: tens of thousands of index probes for a large chapter. On PostgreSQL the two
person indexes now compare their keys with ``COLLATE "C"`` (byte order: the keys are
digits and hex digests), cheaper per probe than the database's default collation. SQLite
already compares bytes: nothing changes there.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_person_keys'
down_revision = '0011_list_indexes'
branch_labels = None
depends_on = None

INDEXES = (('ix_owners_person_mobile', 'mobile'),
           ('ix_owners_person_id_digest', 'id_number_digest'))


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, column in INDEXES:
        op.drop_index(name, table_name='owners')
        op.create_index(name, 'owners', [sa.text(f'{column} COLLATE "C"'), 'chapter_id', 'id'],
                        unique=False)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, column in INDEXES:
        op.drop_index(name, table_name='owners')
        op.create_index(name, 'owners', [column, 'chapter_id', 'id'], unique=False)
