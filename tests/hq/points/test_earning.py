"""Earning and spending points: visits by the rule of their date, campaigns, joining,
referrals, attendance, manual awards, adjusts and dealer redemptions."""

from __future__ import annotations

from datetime import date

import pytest

from clubplatform.errors import PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.points import earning, ledger
from tests.chapter.owners.factories import make_visit
from tests.chapter.points.factories import entries_of, make_campaign, make_earning_member
from tests.factories import make_chapter, make_member, make_user
from tests.hq.points.factories import award, make_rule


@pytest.fixture
def chapter(db):
    return make_chapter()


def _member(member_id):
    return earning.require_member(member_id)


def test_a_visit_earns_by_the_rule_of_its_date_with_the_tier_multiplier(chapter):
    old = make_rule("service_rate", 1, key="maintenance", effective_from=date(2020, 1, 1),
                    effective_to=date(2024, 5, 1))
    new = make_rule("service_rate", 3, key="maintenance", effective_from=date(2024, 5, 1))
    make_rule("tier_multiplier", 150, key="gold")
    member_id, vehicle = make_earning_member(chapter, tier="gold")
    make_visit(chapter, vehicle, visit_date=date(2024, 4, 30), amount="100.50")
    make_visit(chapter, vehicle, visit_date=date(2024, 5, 20), amount="100.50")
    entries = entries_of(member_id)
    assert [(e.points, e.rule_id, e.funder, e.reason) for e in entries] == [
        (100 * 150 // 100, old.id, "hq", "service"),   # floor(100.5 × 1) × 1.5
        (301 * 150 // 100, new.id, "hq", "service"),   # floor(100.5 × 3) × 1.5
    ]


def test_a_campaign_bonus_is_a_separate_chapter_funded_entry(chapter):
    make_rule("service_rate", 1, key="maintenance")
    campaign = make_campaign(chapter, points_per_yuan=2, visit_types=["maintenance"],
                             starts_on=date(2024, 1, 1))
    member_id, vehicle = make_earning_member(chapter)
    visit = make_visit(chapter, vehicle, amount="680.00")
    hq_entry, bonus = entries_of(member_id)
    assert (hq_entry.funder, hq_entry.points) == ("hq", 680)
    assert (bonus.funder, bonus.reason, bonus.points) == ("chapter", "campaign", 1360)
    assert bonus.idempotency_key == f"campaign:{campaign.id}:visit:{visit.id}"


def test_a_campaign_for_other_visit_types_adds_nothing(chapter):
    make_rule("service_rate", 1, key="maintenance")
    make_campaign(chapter, visit_types=["body_paint"], starts_on=date(2024, 1, 1))
    member_id, vehicle = make_earning_member(chapter)
    make_visit(chapter, vehicle, amount="680.00")
    assert [e.reason for e in entries_of(member_id)] == ["service"]


def test_a_visit_before_the_member_joined_earns_nothing(chapter):
    make_rule("service_rate", 1, key="maintenance")
    member_id, vehicle = make_earning_member(chapter, joined_on=date(2024, 6, 1))
    make_visit(chapter, vehicle, visit_date=date(2024, 5, 20))
    assert entries_of(member_id) == []


def test_a_suspended_member_earns_nothing(chapter):
    make_rule("service_rate", 1, key="maintenance")
    member_id, vehicle = make_earning_member(chapter, status="suspended")
    make_visit(chapter, vehicle)
    assert entries_of(member_id) == []


def test_earning_for_the_same_visit_again_writes_nothing(chapter):
    make_rule("service_rate", 1, key="maintenance")
    member_id, vehicle = make_earning_member(chapter)
    visit = make_visit(chapter, vehicle)
    with chapter_scope(chapter.id):
        again = earning.earn_for_visit(member_id, chapter.id, visit.id, "maintenance",
                                       visit.amount_fen, visit.visit_date)
        db.session.commit()
    assert [p.created for p in again] == [False]
    assert len(entries_of(member_id)) == 1


def test_joining_earns_the_join_bonus_once(chapter):
    make_rule("join", 500)
    member = make_member(chapter)
    with chapter_scope(chapter.id):
        earning.earn_for_join(member.id, chapter.id, date.today())
        db.session.commit()
    entries = entries_of(member.id)
    assert [(e.reason, e.points, e.funder, e.idempotency_key) for e in entries] == [
        ("join", 500, "hq", f"join:{member.id}")]


def test_a_referral_purchase_earns_once(chapter):
    from chapter.referrals import service as referrals
    from tests.chapter.referrals.factories import make_lead, vin

    make_rule("referral", 2000)
    referrer = make_member(chapter)
    lead = make_lead(chapter, referrer=referrer)
    for _ in range(2):
        with chapter_scope(chapter.id):
            referrals.close_as_purchase(referrals.get_lead(lead.id), vin(), date.today())
            db.session.commit()
    with chapter_scope(chapter.id):
        earning.earn_for_referral(referrer.id, lead.id, chapter.id, date.today())
        db.session.commit()
    assert [(e.reason, e.points, e.idempotency_key) for e in entries_of(referrer.id)] == [
        ("referral", 2000, f"referral:{lead.id}")]


def test_attending_an_event_earns_once_per_event(chapter):
    make_rule("attendance", 300)
    member = make_member(chapter)
    with chapter_scope(chapter.id):
        for event_id in (7, 7, 8):
            earning.earn_for_attendance(member.id, chapter.id, event_id, date.today())
        db.session.commit()
    assert [e.idempotency_key for e in entries_of(member.id)] == [
        f"attendance:7:{member.id}", f"attendance:8:{member.id}"]


def test_a_retried_manual_award_writes_once(chapter):
    member = make_member(chapter)
    manager = make_user("chapter_manager", chapter=chapter)
    with chapter_scope(chapter.id):
        for _ in range(3):
            earning.award_points(_member(member.id), 200, "车友会活动志愿者", token="t-1",
                                 actor=manager)
        db.session.commit()
    [entry] = entries_of(member.id)
    assert (entry.points, entry.funder, entry.reason, entry.note) == (
        200, "chapter", "manual", "车友会活动志愿者")


def test_a_manual_award_needs_a_reason(chapter):
    member = make_member(chapter)
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed) as exc:
        earning.award_points(_member(member.id), 200, "  ", token="t-1")
    assert "note" in exc.value.fields


def test_an_adjust_without_a_reason_is_refused(chapter):
    member = make_member(chapter)
    manager = make_user("chapter_manager", chapter=chapter)
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed):
        earning.adjust_points(_member(member.id), -5, "", token="t", actor=manager)


def test_staff_cannot_adjust_points(chapter):
    member = make_member(chapter)
    staff = make_user("chapter_staff", chapter=chapter)
    with chapter_scope(chapter.id), pytest.raises(PermissionDenied):
        earning.adjust_points(_member(member.id), 5, "纠正", token="t", actor=staff)


def test_a_manager_adjusts_down_with_a_reason(chapter):
    member = make_member(chapter)
    award(member.id, chapter.id, 100)
    manager = make_user("chapter_manager", chapter=chapter)
    with chapter_scope(chapter.id):
        earning.adjust_points(_member(member.id), -30, "重复发放", token="t", actor=manager)
        db.session.commit()
        assert ledger.balance(member.id) == 70
    assert entries_of(member.id)[-1].funder == "chapter"


def test_redeeming_more_than_the_balance_is_refused_and_writes_nothing(chapter):
    member = make_member(chapter)
    award(member.id, chapter.id, 100)
    with chapter_scope(chapter.id):
        with pytest.raises(ledger.InsufficientPoints):
            earning.redeem_at_dealer(_member(member.id), 101, "dealer_service", token="r")
        db.session.commit()
        assert ledger.balance(member.id) == 100
    assert len(entries_of(member.id)) == 1


def test_a_dealer_redemption_records_the_dealer_as_venue(chapter):
    member = make_member(chapter)
    award(member.id, chapter.id, 100)
    with chapter_scope(chapter.id):
        earning.redeem_at_dealer(_member(member.id), 60, "dealer_parts", "机油滤芯", token="r")
        db.session.commit()
    entry = entries_of(member.id)[-1]
    assert (entry.kind, entry.points, entry.venue, entry.reason) == (
        "redeem", -60, "dealer", "dealer_parts")


def test_a_redemption_must_say_service_or_parts(chapter):
    member = make_member(chapter)
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed):
        earning.redeem_at_dealer(_member(member.id), 10, "perk", token="r")
