"""Referrals and leads: grading, follow-ups, losing, closing as a purchase, monthly figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.referrals import service
from chapter.referrals.models import Lead
from clubplatform import dates
from clubplatform.errors import Conflict, NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.referrals.factories import friend_mobile, make_lead, vin
from tests.factories import make_chapter, make_member, make_user


@pytest.fixture
def chapter(db):
    return make_chapter()


@pytest.fixture
def staff(chapter):
    return make_user("chapter_staff", chapter=chapter)


def _record(chapter, actor=None, referrer=None, **data):
    payload = {"friend_name": "王小明", "friend_mobile": friend_mobile(), "model": "SUV"}
    payload.update(data)
    with chapter_scope(chapter.id):
        lead = service.record_lead(payload, referrer=referrer, actor=actor)
        db.session.commit()
        db.session.refresh(lead)
        return lead


@pytest.mark.parametrize(("grade", "days"), [("H", 7), ("A", 15), ("B", 30), ("C", 90)])
def test_the_grade_sets_the_default_next_follow_up(chapter, staff, grade, days):
    lead = _record(chapter, staff, grade=grade)
    assert lead.next_follow_up_on == dates.today() + timedelta(days=days)


def test_a_follow_up_date_given_wins_over_the_grade(chapter, staff):
    lead = _record(chapter, staff, grade="H", next_follow_up_on=date(2030, 1, 2))
    assert lead.next_follow_up_on == date(2030, 1, 2)


def test_an_ungraded_referral_is_due_for_first_contact_today(chapter):
    lead = _record(chapter)
    assert (lead.grade, lead.next_follow_up_on) == ("C", dates.today())


def test_staff_recording_a_lead_follow_it_up_themselves(chapter, staff):
    assert _record(chapter, staff).assigned_to_id == staff.id


def test_a_bad_friend_mobile_is_refused_naming_the_field(chapter):
    with pytest.raises(ValidationFailed) as err:
        _record(chapter, friend_mobile="12345")
    assert "friend_mobile" in err.value.fields


def test_an_unknown_grade_is_refused(chapter):
    with pytest.raises(ValidationFailed) as err:
        _record(chapter, grade="X")
    assert "grade" in err.value.fields


def test_a_friend_already_followed_up_cannot_be_recorded_twice(chapter):
    mobile = friend_mobile()
    _record(chapter, friend_mobile=mobile)
    with pytest.raises(Conflict) as err:
        _record(chapter, friend_mobile=mobile)
    assert "friend_mobile" in err.value.fields


def test_a_member_cannot_refer_themselves(chapter):
    member = make_member(chapter)
    with chapter_scope(chapter.id):
        referrer = service.find_referrer(member.member_number)
        with pytest.raises(ValidationFailed):
            service.record_lead({"friend_name": "我", "friend_mobile": referrer.mobile},
                                referrer=referrer)


def test_a_referral_keeps_its_referrer(chapter):
    member = make_member(chapter)
    lead = make_lead(chapter, referrer=member)
    assert lead.referrer_member_id == member.id


def test_an_unknown_member_number_is_refused_as_referrer(chapter):
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed) as err:
        service.find_referrer("M99999999")
    assert "referrer_member_number" in err.value.fields


def test_a_member_of_another_chapter_cannot_be_named_as_referrer(chapter):
    other = make_member(make_chapter())
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed):
        service.find_referrer(other.member_number)


def test_another_chapters_lead_is_not_found(chapter):
    lead = make_lead(make_chapter())
    with chapter_scope(chapter.id), pytest.raises(NotFound):
        service.get_lead(lead.id)


def test_due_follow_ups_come_first(chapter):
    today = dates.today()
    later = make_lead(chapter, next_follow_up_on=today + timedelta(days=3))
    overdue = make_lead(chapter, next_follow_up_on=today - timedelta(days=2))
    due_today = make_lead(chapter, next_follow_up_on=today)
    with chapter_scope(chapter.id):
        ids = [lead.id for lead in db.session.execute(service.lead_query()).scalars()]
    assert ids == [overdue.id, due_today.id, later.id]


def test_leads_are_filtered_by_grade(chapter):
    make_lead(chapter, grade="H")
    make_lead(chapter, grade="C")
    with chapter_scope(chapter.id):
        grades = {lead.grade for lead in db.session.execute(service.lead_query(grade="H")).scalars()}
    assert grades == {"H"}


def test_a_follow_up_note_regrades_the_lead_and_moves_the_next_date(chapter, staff):
    lead = make_lead(chapter, grade="C")
    with chapter_scope(chapter.id):
        lead = service.get_lead(lead.id)
        service.add_note(lead, "想下周来试驾", grade="H", actor=staff)
        db.session.commit()
        assert (lead.grade, lead.next_follow_up_on) == ("H", dates.today() + timedelta(days=7))


def test_the_timeline_lists_notes_newest_first(chapter, staff):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id):
        lead = service.get_lead(lead.id)
        service.add_note(lead, "第一次电话", actor=staff)
        service.add_note(lead, "第二次电话", actor=staff)
        db.session.commit()
        assert [n.note for n in service.lead_notes(lead)] == ["第二次电话", "第一次电话"]


def test_an_empty_note_is_refused(chapter):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed) as err:
        service.add_note(service.get_lead(lead.id), "  ")
    assert "note" in err.value.fields


def test_a_lost_lead_keeps_its_reason(chapter, staff):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id):
        lead = service.mark_lost(service.get_lead(lead.id), "买了别的品牌", actor=staff)
        db.session.commit()
        assert (lead.status, lead.lost_reason) == ("lost", "买了别的品牌")


def test_losing_a_lead_needs_a_reason(chapter):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed) as err:
        service.mark_lost(service.get_lead(lead.id), "")
    assert "reason" in err.value.fields


def _close(chapter, lead_id, the_vin=None, day=None):
    with chapter_scope(chapter.id):
        lead = service.close_as_purchase(service.get_lead(lead_id), the_vin or vin(),
                                         day or dates.today())
        db.session.commit()
        db.session.refresh(lead)
        return lead


def test_closing_with_a_vin_makes_a_referral_purchase(chapter):
    lead = _close(chapter, make_lead(chapter).id, day=date(2026, 3, 1))
    assert (lead.status, lead.purchased_on) == ("purchased", date(2026, 3, 1))


def test_the_vin_is_stored_normalised(chapter):
    the_vin = vin()
    lead = _close(chapter, make_lead(chapter).id, the_vin.lower())
    assert lead.purchased_vin == the_vin


def test_a_vin_with_a_wrong_check_digit_is_refused(chapter):
    good = vin()
    bad = good[:8] + ("0" if good[8] != "0" else "1") + good[9:]
    with pytest.raises(ValidationFailed) as err:
        _close(chapter, make_lead(chapter).id, bad)
    assert "vin" in err.value.fields


def test_a_purchase_date_in_the_future_is_refused(chapter):
    with pytest.raises(ValidationFailed) as err:
        _close(chapter, make_lead(chapter).id, day=dates.today() + timedelta(days=1))
    assert "purchased_on" in err.value.fields


def test_the_same_vin_cannot_close_two_leads(chapter):
    the_vin = vin()
    _close(chapter, make_lead(chapter).id, the_vin)
    with pytest.raises(Conflict) as err:
        _close(chapter, make_lead(chapter).id, the_vin)
    assert "vin" in err.value.fields


def test_a_lost_lead_can_still_close_as_a_purchase(chapter):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id):
        service.mark_lost(service.get_lead(lead.id), "预算不够")
        db.session.commit()
    assert _close(chapter, lead.id).status == "purchased"


@pytest.fixture
def rewards():
    """What the points programme receives through ``referral_purchased``."""
    received = []

    def receiver(sender, **kwargs):
        received.append((sender.id, kwargs))

    service.referral_purchased.connect(receiver)
    yield received
    service.referral_purchased.disconnect(receiver)


def test_closing_a_referral_hands_the_reward_to_the_points_programme(chapter, rewards):
    member = make_member(chapter)
    lead = make_lead(chapter, referrer=member)
    _close(chapter, lead.id)
    assert rewards == [(lead.id, {"member_id": member.id, "lead_id": lead.id})]


def test_closing_a_referral_records_when_the_reward_was_handed_over(chapter):
    lead = make_lead(chapter, referrer=make_member(chapter))
    assert _close(chapter, lead.id).reward_recorded_at is not None


def test_closing_a_purchase_again_changes_nothing(chapter, rewards):
    lead = make_lead(chapter, referrer=make_member(chapter))
    first = _close(chapter, lead.id)
    recorded, first_vin = first.reward_recorded_at, first.purchased_vin
    second = _close(chapter, lead.id, vin())
    assert (len(rewards), second.reward_recorded_at, second.purchased_vin) == \
        (1, recorded, first_vin)


def test_a_walk_in_purchase_earns_no_reward(chapter, rewards):
    lead = _close(chapter, make_lead(chapter).id)
    assert (rewards, lead.reward_recorded_at) == ([], None)


def test_referral_purchases_are_counted_per_month_of_purchase(chapter):
    today = dates.today()
    last_month = today.replace(day=1) - timedelta(days=1)
    for day in (today, today, last_month):
        _close(chapter, make_lead(chapter).id, day=day)
    with chapter_scope(chapter.id):
        months = service.referral_purchases_by_month(3)
    assert [m.count for m in months] == [0, 1, 2]


def test_monthly_referral_purchases_count_only_the_chapters_own(chapter):
    other = make_chapter()
    _close(other, make_lead(other).id)
    with chapter_scope(chapter.id):
        assert sum(m.count for m in service.referral_purchases_by_month(12)) == 0


def test_open_leads_of_a_member_are_visible_to_their_chapter_only(chapter):
    member = make_member(chapter)
    make_lead(chapter, referrer=member)
    with chapter_scope(make_chapter().id):
        found = db.session.execute(service.member_referrals_query(member.id)).scalars().all()
    assert found == []


def test_the_database_refuses_a_purchase_without_a_vin(chapter):
    lead = make_lead(chapter)
    with chapter_scope(chapter.id):
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.update(Lead).where(Lead.id == lead.id).values(status="purchased"))
        db.session.rollback()
