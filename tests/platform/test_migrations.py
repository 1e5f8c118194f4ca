"""The Alembic revisions build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from clubplatform.extensions import db


def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, db.metadata)
                if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert diff == []


def test_migrations_have_a_single_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    cfg = Config(str(app.extensions["migrate"].directory) + "/alembic.ini")
    cfg.set_main_option("script_location", str(app.extensions["migrate"].directory))
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1
