"""Factories for the chapter's points tests: campaigns, service visits of members."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from chapter.points import service
from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope

_seq = itertools.count(1)


def make_campaign(chapter, *, points_per_yuan: int = 2, visit_types=(), starts_on: date | None = None,
                  ends_on: date | None = None, name: str | None = None):
    """An active campaign of ``chapter`` (committed), covering the last year by default."""
    today = dates.today()
    with chapter_scope(chapter.id):
        campaign = service.create_campaign(chapter.id, {
            "name": name or f"活动{next(_seq)}", "points_per_yuan": points_per_yuan,
            "visit_types": list(visit_types),
            "starts_on": starts_on or today - timedelta(days=365),
            "ends_on": ends_on or today + timedelta(days=30)})
        db.session.commit()
        db.session.refresh(campaign)
    return campaign


def make_earning_member(chapter, *, joined_on: date = date(2024, 1, 1), tier: str = "silver",
                        status: str = "active"):
    """A member of ``chapter`` with a vehicle, joined on ``joined_on``; returns (member_id, vehicle)."""
    import sqlalchemy as sa

    from hq.members.models import Member
    from tests.chapter.owners.factories import make_vehicle
    from tests.factories import make_member, make_owner

    owner = make_owner(chapter)
    member_id = make_member(chapter, owner=owner).id
    db.session.execute(sa.update(Member.__table__).where(Member.__table__.c.id == member_id)
                       .values(joined_on=joined_on, tier=tier, status=status))
    db.session.commit()
    vehicle = make_vehicle(chapter, owner=owner, delivery_date=date(2023, 1, 1))
    return member_id, vehicle


def entries_of(member_id: int):
    """The member's ledger entries, oldest first."""
    import sqlalchemy as sa

    from hq.points.models import PointEntry

    db.session.expire_all()
    return list(db.session.execute(sa.select(PointEntry).where(PointEntry.member_id == member_id)
                                   .order_by(PointEntry.id)).scalars())
