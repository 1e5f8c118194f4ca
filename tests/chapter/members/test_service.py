"""Members of a chapter: statuses with dated history, "members as of a date", finding members."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from chapter.members import service
from chapter.recruitment import service as recruitment
from clubplatform import dates
from clubplatform.errors import ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members import service as members
from hq.members.models import Member
from tests.chapter.recruitment.factories import make_application, make_member_of


def _today_is(monkeypatch, day: date) -> None:
    monkeypatch.setattr(dates, "today", lambda: day)


def _change(chapter, member_id, action, on, reason=None, actor=None):
    with chapter_scope(chapter.id):
        member = members.get_member(member_id)
        service.change_member_status(member, action, on=on, reason=reason, actor=actor)
        db.session.commit()


@pytest.fixture
def history(two_chapters, monkeypatch):
    """Chapter A: 甲 joined 2025-01-10, suspended 03-01, reactivated 04-15, left 06-01;
    乙 joined 2025-02-01 and stayed. Chapter B: 丙 joined 2025-01-10."""
    a, b, manager = two_chapters["a"], two_chapters["b"], two_chapters["manager_a"]
    _today_is(monkeypatch, date(2025, 1, 10))
    jia = make_member_of(a, name="甲", by=manager)
    make_member_of(b, name="丙", by=two_chapters["manager_b"])
    _today_is(monkeypatch, date(2025, 2, 1))
    make_member_of(a, name="乙", by=manager)
    _today_is(monkeypatch, date(2025, 6, 30))
    _change(a, jia.id, "suspend", date(2025, 3, 1), "欠费", manager)
    _change(a, jia.id, "reactivate", date(2025, 4, 15), None, manager)
    _change(a, jia.id, "leave", date(2025, 6, 1), "搬家去外地", manager)
    return {"a": a, "jia": jia.id}


def _members_of_a_on(history, day):
    stmt = sa.select(Member.name).where(
        Member.id.in_(members.members_as_of(history["a"].id, day))).order_by(Member.name)
    with chapter_scope(history["a"].id):
        return db.session.execute(stmt).scalars().all()


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 1, 9), []),              # before anyone joined
    (date(2025, 1, 10), ["甲"]),          # 甲's join day
    (date(2025, 1, 31), ["甲"]),
    (date(2025, 2, 1), ["乙", "甲"]),     # 乙's join day
    (date(2025, 3, 1), ["乙", "甲"]),     # 甲 suspended from today: still a member
    (date(2025, 4, 14), ["乙", "甲"]),    # last day of the suspension
    (date(2025, 4, 15), ["乙", "甲"]),    # reactivated
    (date(2025, 5, 31), ["乙", "甲"]),    # 甲's last day
    (date(2025, 6, 1), ["乙"]),           # 甲 left on this day
    (date(2025, 6, 30), ["乙"]),
])
def test_members_of_a_chapter_as_of_a_date_follow_joins_suspensions_and_leaving(
        history, day, expected):
    assert _members_of_a_on(history, day) == expected


def test_the_status_history_keeps_every_period_with_its_dates(history):
    with chapter_scope(history["a"].id):
        detail = service.member_detail(members.get_member(history["jia"]))
    periods = [(p.status, p.valid_from, p.valid_to, p.reason, p.end_reason)
               for p in reversed(detail.status_periods)]
    assert periods == [
        ("active", date(2025, 1, 10), date(2025, 3, 1), "joined", "suspended"),
        ("suspended", date(2025, 3, 1), date(2025, 4, 15), "suspended", "reactivated"),
        ("active", date(2025, 4, 15), date(2025, 6, 1), "reactivated", "left"),
    ]


def test_the_member_shows_left_since_the_leaving_date(history):
    with chapter_scope(history["a"].id):
        member = members.get_member(history["jia"])
        assert (member.status, member.status_since) == ("left", date(2025, 6, 1))


def test_each_status_change_is_listed_with_its_reason(history):
    with chapter_scope(history["a"].id):
        detail = service.member_detail(members.get_member(history["jia"]))
    assert [(c.new, c.on, c.reason) for c in reversed(detail.status_changes)] == [
        ("suspended", date(2025, 3, 1), "欠费"), ("active", date(2025, 4, 15), ""),
        ("left", date(2025, 6, 1), "搬家去外地")]


def test_leaving_needs_a_reason(two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    with pytest.raises(ValidationFailed) as err:
        _change(two_chapters["a"], member.id, "leave", dates.today(), "  ")
    assert "reason" in err.value.fields


def test_a_change_dated_before_the_last_change_is_refused(history):
    with pytest.raises(ValidationFailed) as err:
        _change(history["a"], history["jia"], "reactivate", date(2025, 5, 1))
    assert "on" in err.value.fields


def test_a_change_dated_in_the_future_is_refused(two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    with pytest.raises(ValidationFailed) as err:
        _change(two_chapters["a"], member.id, "suspend", date(2999, 1, 1))
    assert "on" in err.value.fields


def test_a_member_who_left_cannot_be_suspended(history):
    with pytest.raises(ValidationFailed) as err:
        _change(history["a"], history["jia"], "suspend", date(2025, 6, 30))
    assert "status" in err.value.fields


def test_an_unknown_action_is_refused_naming_the_action(two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    with pytest.raises(ValidationFailed) as err:
        _change(two_chapters["a"], member.id, "promote", dates.today())
    assert "action" in err.value.fields


def test_a_member_who_left_can_be_reactivated_and_counts_again(history):
    _change(history["a"], history["jia"], "reactivate", date(2025, 6, 20))
    assert _members_of_a_on(history, date(2025, 6, 19)) == ["乙"]
    assert _members_of_a_on(history, date(2025, 6, 20)) == ["乙", "甲"]


def test_suspending_on_the_join_day_keeps_the_member_counted_from_that_day(two_chapters):
    a = two_chapters["a"]
    member = make_member_of(a, name="丁", by=two_chapters["manager_a"])
    _change(a, member.id, "suspend", dates.today())
    with chapter_scope(a.id):
        ids = db.session.execute(members.members_as_of(a.id, dates.today())).scalars().all()
    assert ids == [member.id]


# --- finding members -----------------------------------------------------------------

def _names(chapter, **filters):
    with chapter_scope(chapter.id):
        return sorted(m.name for m in db.session.execute(
            service.member_query(**filters)).scalars())


def test_the_list_holds_only_the_chapters_members(history):
    assert _names(history["a"]) == ["乙", "甲"]


def test_members_are_filtered_by_status(history):
    assert _names(history["a"], status="left") == ["甲"]


def test_members_are_filtered_by_the_month_they_joined(history):
    assert _names(history["a"], joined_month="2025-02") == ["乙"]


def test_a_malformed_month_names_the_field(history):
    with pytest.raises(ValidationFailed) as err:
        _names(history["a"], joined_month="2025-13")
    assert "joined_month" in err.value.fields


def test_members_are_filtered_by_tier(two_chapters):
    a = two_chapters["a"]
    gold = make_member_of(a, name="金", by=two_chapters["manager_a"])
    make_member_of(a, name="银", by=two_chapters["manager_a"])
    with chapter_scope(a.id):
        members.get_member(gold.id).tier = "gold"
        db.session.commit()
    assert _names(a, tier="gold") == ["金"]


def test_members_are_filtered_by_source(two_chapters):
    a, manager = two_chapters["a"], two_chapters["manager_a"]
    make_member_of(a, name="展", by=manager)
    application = make_application(a, name="推", source="referral")
    with chapter_scope(a.id):
        recruitment.approve_application(recruitment.get_application(application.id), actor=manager)
        db.session.commit()
    assert _names(a, source="referral") == ["推"]


def test_members_are_found_by_member_number(history):
    with chapter_scope(history["a"].id):
        number = members.get_member(history["jia"]).member_number
    assert _names(history["a"], q=number.lower()) == ["甲"]


def test_members_are_found_by_mobile(two_chapters):
    make_member_of(two_chapters["a"], name="赵", mobile="13912345678", by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], name="钱", mobile="13800000000", by=two_chapters["manager_a"])
    assert _names(two_chapters["a"], q="13912345678") == ["赵"]


def test_members_are_found_by_the_last_digits_of_the_mobile(two_chapters):
    make_member_of(two_chapters["a"], name="赵", mobile="13912345678", by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], name="钱", mobile="13800000000", by=two_chapters["manager_a"])
    assert _names(two_chapters["a"], q="5678") == ["赵"]


def test_members_are_found_by_the_start_of_the_name(two_chapters):
    make_member_of(two_chapters["a"], name="欧阳锋", by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], name="黄药师", by=two_chapters["manager_a"])
    assert _names(two_chapters["a"], q="欧阳") == ["欧阳锋"]


def test_status_counts_cover_every_status(history):
    with chapter_scope(history["a"].id):
        assert service.status_counts() == {"active": 1, "suspended": 0, "left": 1}
