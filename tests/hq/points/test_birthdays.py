"""Birthday gift: once a year, on the day (29 February on the 28th in common years)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members.models import Member
from hq.points import birthdays, ledger
from hq.points.models import PointEntry
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import make_rule


def _member_born(chapter, born: date, status: str = "active"):
    member = make_member(chapter)
    with unscoped("test"):
        db.session.execute(sa.update(Member.__table__).where(Member.__table__.c.id == member.id)
                           .values(birthday=born, status=status))
        db.session.commit()
    return member.id


def _gifts(member_id: int) -> list[PointEntry]:
    with unscoped("test"):
        return list(db.session.execute(
            sa.select(PointEntry).where(PointEntry.member_id == member_id,
                                        PointEntry.reason == "birthday")).scalars())


def _run(on: date):
    with unscoped("test"):
        result = birthdays.give_birthday_points(on)
        db.session.commit()
    return result


def test_a_member_gets_the_birthday_points_on_their_birthday(app):
    rule = make_rule("birthday", 500)
    chapter = make_chapter()
    member_id = _member_born(chapter, date(1990, 6, 15))
    result = _run(date(2026, 6, 15))
    assert (result.members, result.points) == (1, 500)
    [gift] = _gifts(member_id)
    assert (gift.points, gift.funder, gift.chapter_id, gift.rule_id) == (500, "hq", chapter.id,
                                                                         rule.id)
    assert gift.idempotency_key == f"birthday:{member_id}:2026"


def test_the_gift_is_given_once_per_year(app):
    make_rule("birthday", 500)
    chapter = make_chapter()
    member_id = _member_born(chapter, date(1990, 6, 15))
    _run(date(2026, 6, 15))
    again = _run(date(2026, 6, 15))
    assert again.members == 0
    assert len(_gifts(member_id)) == 1
    _run(date(2027, 6, 15))
    assert len(_gifts(member_id)) == 2
    with unscoped("test"):
        assert ledger.balance(member_id) == ledger.ledger_sum(member_id)


def test_other_days_and_inactive_members_get_nothing(app):
    make_rule("birthday", 500)
    chapter = make_chapter()
    other_day = _member_born(chapter, date(1990, 6, 16))
    suspended = _member_born(chapter, date(1990, 6, 15), status="suspended")
    _run(date(2026, 6, 15))
    assert _gifts(other_day) == [] and _gifts(suspended) == []


def test_a_member_born_on_29_february_celebrates_on_the_28th_in_common_years(app):
    make_rule("birthday", 500)
    chapter = make_chapter()
    leapling = _member_born(chapter, date(1992, 2, 29))
    _run(date(2026, 2, 28))
    assert len(_gifts(leapling)) == 1
    _run(date(2028, 2, 28))
    assert len(_gifts(leapling)) == 1
    _run(date(2028, 2, 29))
    assert len(_gifts(leapling)) == 2


def test_no_birthday_rule_gives_nothing(app):
    chapter = make_chapter()
    member_id = _member_born(chapter, date(1990, 6, 15))
    assert _run(date(2026, 6, 15)).members == 0
    assert _gifts(member_id) == []
