"""The demo's points: members earn from their visits, some redeem at the dealer; loads twice safely."""

from __future__ import annotations

import sqlalchemy as sa

from chapter import demo as chapter_demo
from chapter.points import demo as points_demo
from clubplatform import demo as org_demo
from clubplatform.tenancy import unscoped
from hq.points import demo as hq_points_demo
from hq.points.models import PointEntry


def _reasons(db) -> dict[str, int]:
    with unscoped("test: count the demo's entries"):
        return dict(db.session.execute(sa.select(PointEntry.reason, sa.func.count())
                                       .group_by(PointEntry.reason)).all())


def test_the_demo_members_have_points_and_a_second_load_adds_none(db):
    org_demo.load()
    hq_points_demo.load()
    chapter_demo.load(chapters=3)
    points_demo.load(chapters=3)
    first = _reasons(db)
    assert first.get("service") and first.get("join")
    assert first.get("dealer_service", 0) + first.get("dealer_parts", 0) > 0
    points_demo.load(chapters=3)
    assert _reasons(db) == first
