"""jobs survive a Redis outage; complaints and feedback refer to a visit by its chapter

Revision ID: 0010_resilience
Revises: 0009_tuning
Create Date: 2026-11-25 09:00:00.000000

- job runs keep what a later enqueue needs (function, args, retry, timeout) and when the
  run reached the queue (``enqueued_at``; NULL while Redis was unreachable at submit
  time: the sweeper enqueues it). Runs from before this revision are marked enqueued;
- ``UNIQUE (chapter_id, id)`` on service visits, and the visit keys of complaints and
  service feedback become ``(chapter_id, visit_id) -> service_visits (chapter_id, id)``
  (the Citus plan: co-located keys). ON DELETE stays NO ACTION (visits are never deleted).
  On SQLite the three tables are copied (batch mode) with foreign keys off, as Alembic's
  batch documentation asks, and checked afterwards.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_resilience'
down_revision = '0009_tuning'
branch_labels = None
depends_on = None

WAITING = "status = 'queued'"
#: (table, old single-column key, new composite key)
VISIT_KEYS = (('complaints', 'fk_complaints_visit_id_service_visits', 'fk_complaints_visit'),
              ('service_feedback', 'fk_service_feedback_visit_id_service_visits',
               'fk_service_feedback_visit'))


def _sqlite_foreign_keys(on: bool) -> None:
    """Turn SQLite's enforcement off while batch mode drops and renames referred tables.

    A PRAGMA has no effect inside a transaction: it runs in an autocommit block (which
    commits the revisions before it). Turning it back on checks the rewritten keys.
    """
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.get_context().autocommit_block():
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    if on:
        for table, _old, _new in VISIT_KEYS:
            bad = op.get_bind().exec_driver_sql(f"PRAGMA foreign_key_check({table})").fetchall()
            if bad:
                raise RuntimeError(f"{table}: {len(bad)} rows refer to a visit of another "
                                   f"chapter, e.g. rowid {bad[0][1]}")


def upgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('function', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('args', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('retry', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('timeout', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True))
    # every run so far went through a successful enqueue (or failed with it): none waits
    op.execute("UPDATE job_runs SET enqueued_at = created_at")
    op.create_index('ix_job_runs_waiting', 'job_runs', ['created_at'], unique=False,
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))

    _sqlite_foreign_keys(False)
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_service_visits_chapter_id_id', ['chapter_id', 'id'])
    for table, old, new in VISIT_KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(old, type_='foreignkey')
            batch_op.create_foreign_key(new, 'service_visits', ['chapter_id', 'visit_id'],
                                        ['chapter_id', 'id'])
    _sqlite_foreign_keys(True)


def downgrade():
    _sqlite_foreign_keys(False)  # job_runs is copied too: its files must not cascade away
    for table, old, new in reversed(VISIT_KEYS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(new, type_='foreignkey')
            batch_op.create_foreign_key(old, 'service_visits', ['visit_id'], ['id'])
    with op.batch_alter_table('service_visits', schema=None) as batch_op:
        batch_op.drop_constraint('uq_service_visits_chapter_id_id', type_='unique')

    op.drop_index('ix_job_runs_waiting', table_name='job_runs',
                  postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('enqueued_at')
        batch_op.drop_column('timeout')
        batch_op.drop_column('retry')
        batch_op.drop_column('args')
        batch_op.drop_column('function')
    _sqlite_foreign_keys(True)
