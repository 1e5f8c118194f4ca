"""Factories for perk tests: partners, their logins, perks and members with points."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa

from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members.models import Member
from hq.perks import service
from hq.points.models import Partner, Perk
from tests.factories import PASSWORD, make_member
from tests.hq.points.factories import award

_seq = itertools.count(1)


def make_partner(code: str | None = None, *, active: bool = True) -> Partner:
    n = next(_seq)
    partner = service.create_partner({"code": code or f"PK{n:04d}", "name": f"合作商户{n}",
                                      "category": "car_wash", "active": active})
    db.session.commit()
    return partner


def make_partner_user(partner: Partner, username: str | None = None):
    user = service.add_partner_user(partner, username=username or f"partner{next(_seq)}",
                                    display_name="商户店员", password=PASSWORD)
    db.session.commit()
    return user


def make_perk(partner: Partner, *, status: str = "published", points_cost: int = 100,
              tiers=("silver", "gold", "platinum", "diamond"), stock: int | None = None,
              per_member_limit: int | None = None, valid_from: date | None = None,
              valid_to: date | None = None, title: str | None = None) -> Perk:
    today = dates.today()
    perk = service.create_perk({
        "partner_id": partner.id, "title": title or f"礼遇{next(_seq)}", "tiers": list(tiers),
        "points_cost": points_cost, "valid_from": valid_from or today - timedelta(days=10),
        "valid_to": valid_to or today + timedelta(days=30), "stock": stock,
        "per_member_limit": per_member_limit})
    if status in ("published", "withdrawn"):
        service.publish_perk(perk)
    if status == "withdrawn":
        service.withdraw_perk(perk)
    db.session.commit()
    return perk


def set_member(member_id: int, **values) -> None:
    """Change a member row directly (tier, status) for a test."""
    with unscoped("test: set up a member"):
        db.session.execute(sa.update(Member.__table__)
                           .where(Member.__table__.c.id == member_id).values(**values))
        db.session.commit()


def member_with_points(chapter, points: int = 0, **values) -> int:
    """A member of ``chapter`` with ``points`` earned; returns the member id."""
    member_id = make_member(chapter).id
    if points:
        award(member_id, chapter.id, points)
    if values:
        set_member(member_id, **values)
    return member_id


def load_member(member_id: int) -> Member:
    with unscoped("test: load a member"):
        return db.session.execute(sa.select(Member).where(Member.id == member_id)).scalar_one()
