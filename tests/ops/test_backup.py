"""Backups: ``flask ops backup`` / ``restore`` — backup, wipe, restore, figures identical."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.extensions import db
from tests.factories import make_chapter, make_member, make_user
from tests.hq.points.factories import award


def _figures() -> dict:
    """Row counts of every table and the money-like sums a restore must keep to the unit."""
    db.session.remove()
    with db.engine.connect() as conn:
        out = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
               for t in db.metadata.sorted_tables}
        out["points"] = tuple(conn.execute(sa.text(
            "SELECT COALESCE(SUM(points), 0), COALESCE(SUM(value_fen), 0) FROM point_entries"
        )).one())
        out["balances"] = conn.execute(sa.text(
            "SELECT COALESCE(SUM(points_balance), 0) FROM members")).scalar()
    return out


def _some_data() -> None:
    a, b = make_chapter(), make_chapter()
    make_user("chapter_manager", chapter=a)
    ma, mb = make_member(a), make_member(b)
    award(ma.id, a.id, 120, on=date(2026, 3, 1))
    award(mb.id, b.id, 80, on=date(2026, 3, 2))


@pytest.mark.postgres
def test_restore_drill_brings_back_identical_figures(app, runner, tmp_path):
    _some_data()
    before = _figures()
    dump = tmp_path / "drill.dump"

    out = runner.invoke(args=["ops", "backup", str(dump)])
    assert out.exit_code == 0, out.output
    with db.engine.begin() as conn:  # the disaster: everything gone
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    db.engine.dispose()
    out = runner.invoke(args=["ops", "restore", str(dump), "--yes"])

    assert out.exit_code == 0, out.output
    after = _figures()
    assert after == before
    assert before["point_entries"] == 2 and before["points"] == (200, 200)


@pytest.mark.postgres
def test_restore_replaces_rows_written_after_the_backup(app, runner, tmp_path):
    _some_data()
    dump = tmp_path / "before.dump"
    assert runner.invoke(args=["ops", "backup", str(dump)]).exit_code == 0
    before = _figures()
    make_chapter()

    out = runner.invoke(args=["ops", "restore", str(dump), "--yes"])

    assert out.exit_code == 0, out.output
    assert _figures()["chapters"] == before["chapters"]


def test_restore_asks_before_replacing_the_database(app, runner, tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"not used")

    out = runner.invoke(args=["ops", "restore", str(dump)], input="n\n")

    assert out.exit_code != 0 and "Aborted" in out.output


def test_backup_names_a_file_under_instance_when_no_path_is_given(app, runner, db,
                                                                  monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))

    out = runner.invoke(args=["ops", "backup"])

    assert out.exit_code == 0, out.output
    written = list((tmp_path / "backups").glob("clubplatform-*.dump"))
    assert len(written) == 1 and written[0].stat().st_size > 0
