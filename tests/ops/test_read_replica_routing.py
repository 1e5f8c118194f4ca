"""read_replica() without a replica configured: reports run unchanged on the primary."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.db import read_replica, replica_active
from hq.points.models import PointEntry
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import award


def test_without_a_replica_reads_stay_on_the_primary(app, db):
    with read_replica():
        assert replica_active()
        assert db.session.get_bind(clause=sa.select(PointEntry.__table__)) is db.engine
    assert not replica_active()


def test_a_decorated_report_gives_the_same_figures_without_a_replica(app, db):
    from hq.settlement.reports import points_report

    chapter = make_chapter()
    award(make_member(chapter).id, chapter.id, 40, on=date(2026, 3, 3))

    rep = points_report(date(2026, 3, 1), group="nation")

    assert rep.total.issued == points_report.__wrapped__(date(2026, 3, 1),
                                                         group="nation").total.issued == 40
