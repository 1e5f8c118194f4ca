"""The chapters' demo data: owners, cars, visits, members in several statuses, leads, transfers."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter import demo as chapter_demo
from chapter.owners.models import Owner, ServiceVisit, Vehicle
from chapter.recruitment.models import Application
from chapter.referrals.models import Lead
from clubplatform import dates
from clubplatform import demo as org_demo
from clubplatform.auth.models import User
from clubplatform.tenancy import unscoped
from hq.members.models import Member, MemberStatusPeriod, Transfer

#: three chapters are enough for every part of the story (the transfers need three)
CHAPTERS = 3
TABLES = (Owner, Vehicle, ServiceVisit, Application, Member, MemberStatusPeriod, Lead, Transfer,
          User)


def _load() -> list[tuple[str, str, str]]:
    org_demo.load()
    return chapter_demo.load(chapters=CHAPTERS)


def _counts(db) -> dict[str, int]:
    with unscoped("test: count the demo's rows"):
        return {m.__tablename__: db.session.execute(
            sa.select(sa.func.count()).select_from(m)).scalar_one() for m in TABLES}


def _all(db, stmt):
    with unscoped("test: read the demo's rows"):
        return db.session.execute(stmt).all()


def test_loading_the_chapter_demo_twice_changes_nothing(db):
    _load()
    first = _counts(db)
    _load()
    assert _counts(db) == first
    assert first["owners"] >= CHAPTERS * chapter_demo.OWNERS_PER_CHAPTER


def test_the_demo_has_members_in_several_statuses_and_applications_to_decide(db):
    _load()
    statuses = dict(_all(db, sa.select(Member.status, sa.func.count()).group_by(Member.status)))
    assert set(statuses) == {"active", "suspended", "left"}
    applications = {s for (s,) in _all(db, sa.select(Application.status).distinct())}
    assert {"approved", "pending", "rejected"} <= applications
    reactivated = _all(db, sa.select(MemberStatusPeriod.member_id)
                       .where(MemberStatusPeriod.reason == "reactivated"))
    assert reactivated


def test_the_demo_members_joined_on_past_dates_with_a_consistent_history(db):
    _load()
    rows = _all(db, sa.select(Member.id, Member.joined_on, sa.func.min(MemberStatusPeriod.valid_from))
                .join(MemberStatusPeriod, MemberStatusPeriod.member_id == Member.id)
                .group_by(Member.id, Member.joined_on))
    assert rows and all(joined == first for _id, joined, first in rows)
    assert min(joined for _id, joined, _first in rows) < dates.today() - timedelta(days=60)


def test_the_demo_cars_have_visits_spread_over_three_years(db):
    _load()
    days = [d for (d,) in _all(db, sa.select(ServiceVisit.visit_date))]
    today = dates.today()
    assert min(days) >= today - timedelta(days=3 * 366)
    assert {(today - d).days // 365 for d in days} == {0, 1, 2}


def test_the_demo_has_a_moved_member_a_transfer_to_decide_and_leads(db):
    _load()
    transfers = {s for (s,) in _all(db, sa.select(Transfer.status))}
    assert transfers == {"approved", "requested"}
    leads = {s for (s,) in _all(db, sa.select(Lead.status))}
    assert leads == {"open", "lost", "purchased"}


def test_the_demo_portal_login_belongs_to_a_member(db):
    logins = _load()
    assert logins == [("member", chapter_demo.PORTAL_MOBILE, chapter_demo.PASSWORD)]
    user = db.session.execute(
        sa.select(User).where(User.username == chapter_demo.PORTAL_MOBILE)).scalar_one()
    member = _all(db, sa.select(Member.status).where(Member.user_id == user.id))
    assert user.role == "member" and member == [("active",)]
