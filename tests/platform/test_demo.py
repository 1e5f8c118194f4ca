"""Demo data: the organisation of DOMAIN.md, loaded idempotently."""

from __future__ import annotations

import sqlalchemy as sa

from clubplatform import demo
from clubplatform.auth.models import User
from clubplatform.org.models import Chapter, Dealer, Region


def _counts(db):
    return tuple(
        db.session.execute(sa.select(sa.func.count()).select_from(m)).scalar_one()
        for m in (Region, Dealer, Chapter, User)
    )


def test_demo_loads_the_six_regions_thirty_dealers_and_twenty_chapters(db):
    demo.load()
    regions, dealers, chapters, users = _counts(db)
    assert regions == 6 and dealers == 30 and chapters == 20
    codes = set(db.session.execute(sa.select(Region.code)).scalars())
    assert codes == {"BJ", "SH", "CD", "JN", "GZ", "HZ"}


def test_loading_the_demo_twice_changes_nothing(db):
    demo.load()
    first = _counts(db)
    demo.load()
    assert _counts(db) == first


def test_every_demo_chapter_has_a_manager_and_staff(db):
    demo.load()
    rows = db.session.execute(
        sa.select(Chapter.id, sa.func.count(User.id))
        .join(User, User.chapter_id == Chapter.id).group_by(Chapter.id)).all()
    assert len(rows) == 20 and all(n == 3 for _, n in rows)


def test_demo_prints_logins_for_every_role(runner, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0
    for username in ("hq.admin", "hq.analyst", "bj001.manager", "bj001.staff1", "partner.wash"):
        assert username in result.output
