"""person keys held in more than one chapter

Revision ID: 0013_shared_person_keys
Revises: 0012_person_keys
Create Date: 2026-11-25 10:00:00.000000

The churn matrix asks, for every owner of a chapter who came back on schedule, whether
the same person (mobile or ID-number digest) is an owner serviced at another chapter.
Probing the other chapters' owners for each of a large chapter's tens of thousands of
keys was a third of its time; only a few hundred of those keys are held anywhere else.
``shared_person_keys`` lists the keys held by owners of two chapters or more (owners are
unique per chapter and key, so: by two owners or more), and the matrix probes those only.

Triggers on ``owners`` keep it on every insert, delete and change of a key. On
PostgreSQL inserts and deletes are handled once per statement (an import batch is one
statement) from its transition table; on SQLite, once per row. Two transactions that
write the same new key into two chapters at the same moment each count only their own
row: the nightly ``person-keys`` job (and the churn snapshots, first) repairs that.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_shared_person_keys'
down_revision = '0012_person_keys'
branch_labels = None
depends_on = None

#: the keys held by two owners or more: the whole table, from the owners
FILL = """
INSERT INTO shared_person_keys (kind, key)
SELECT 'mobile', mobile FROM owners WHERE mobile IS NOT NULL
 GROUP BY mobile HAVING count(*) > 1
UNION ALL
SELECT 'id_digest', id_number_digest FROM owners WHERE id_number_digest IS NOT NULL
 GROUP BY id_number_digest HAVING count(*) > 1
"""

#: PostgreSQL: how many owners hold the key t.key of kind t.kind (the "C" person indexes)
PG_HOLDERS = """(CASE t.kind
    WHEN 'mobile' THEN (SELECT count(*) FROM owners o WHERE o.mobile COLLATE "C" = t.key)
    ELSE (SELECT count(*) FROM owners o WHERE o.id_number_digest COLLATE "C" = t.key) END)"""

PG_FUNCTIONS = f"""
CREATE FUNCTION shared_person_keys_refresh(p_kind text[], p_key text[]) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM shared_person_keys s
   USING (SELECT DISTINCT kind, key FROM unnest(p_kind, p_key) AS u(kind, key)) t
   WHERE s.kind = t.kind AND s.key = t.key AND {PG_HOLDERS} < 2;
  INSERT INTO shared_person_keys (kind, key)
  SELECT t.kind, t.key
    FROM (SELECT DISTINCT kind, key FROM unnest(p_kind, p_key) AS u(kind, key)
           WHERE key IS NOT NULL) t
   WHERE {PG_HOLDERS} > 1
  ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION owners_person_keys_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM shared_person_keys_refresh(array_agg(kind), array_agg(key)) FROM (
      SELECT 'mobile' AS kind, mobile::text AS key FROM new_rows WHERE mobile IS NOT NULL
      UNION ALL
      SELECT 'id_digest', id_number_digest::text FROM new_rows
       WHERE id_number_digest IS NOT NULL) k;
  ELSE
    PERFORM shared_person_keys_refresh(array_agg(kind), array_agg(key)) FROM (
      SELECT 'mobile' AS kind, mobile::text AS key FROM old_rows WHERE mobile IS NOT NULL
      UNION ALL
      SELECT 'id_digest', id_number_digest::text FROM old_rows
       WHERE id_number_digest IS NOT NULL) k;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION owners_person_keys_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM shared_person_keys_refresh(
    ARRAY['mobile', 'mobile', 'id_digest', 'id_digest'],
    ARRAY[OLD.mobile::text, NEW.mobile::text, OLD.id_number_digest::text,
          NEW.id_number_digest::text]);
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = """
CREATE TRIGGER trg_owners_person_keys_insert AFTER INSERT ON owners
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION owners_person_keys_statement();
CREATE TRIGGER trg_owners_person_keys_delete AFTER DELETE ON owners
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION owners_person_keys_statement();
CREATE TRIGGER trg_owners_person_keys_update AFTER UPDATE OF mobile, id_number_digest ON owners
  FOR EACH ROW WHEN (OLD.mobile IS DISTINCT FROM NEW.mobile
                     OR OLD.id_number_digest IS DISTINCT FROM NEW.id_number_digest)
  EXECUTE FUNCTION owners_person_keys_row();
"""


def _sqlite_added(row: str) -> str:
    return "\n".join(
        f"INSERT OR IGNORE INTO shared_person_keys (kind, key) SELECT '{kind}', {row}.{col} "
        f"WHERE {row}.{col} IS NOT NULL "
        f"AND (SELECT count(*) FROM owners WHERE {col} = {row}.{col}) > 1;"
        for kind, col in (("mobile", "mobile"), ("id_digest", "id_number_digest")))


def _sqlite_removed(row: str) -> str:
    return "\n".join(
        f"DELETE FROM shared_person_keys WHERE kind = '{kind}' AND key = {row}.{col} "
        f"AND (SELECT count(*) FROM owners WHERE {col} = {row}.{col}) < 2;"
        for kind, col in (("mobile", "mobile"), ("id_digest", "id_number_digest")))


SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER trg_owners_person_keys_insert AFTER INSERT ON owners
        BEGIN {_sqlite_added("NEW")} END""",
    f"""CREATE TRIGGER trg_owners_person_keys_delete AFTER DELETE ON owners
        BEGIN {_sqlite_removed("OLD")} END""",
    f"""CREATE TRIGGER trg_owners_person_keys_update
        AFTER UPDATE OF mobile, id_number_digest ON owners
        BEGIN {_sqlite_removed("OLD")} {_sqlite_added("NEW")} END""",
)
TRIGGERS = ("trg_owners_person_keys_insert", "trg_owners_person_keys_delete",
            "trg_owners_person_keys_update")


def upgrade():
    op.create_table(
        'shared_person_keys',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('mobile', 'id_digest')",
                           name=op.f('ck_shared_person_keys_kind_known')),
        sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_shared_person_keys')),
    )
    op.execute(FILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTIONS)
        op.execute(PG_TRIGGERS)
    else:
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON owners")
        op.execute("DROP FUNCTION IF EXISTS owners_person_keys_row()")
        op.execute("DROP FUNCTION IF EXISTS owners_person_keys_statement()")
        op.execute("DROP FUNCTION IF EXISTS shared_person_keys_refresh(text[], text[])")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('shared_person_keys')
