"""Complaints: recording, acknowledging, escalating, closing with goodwill, reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from chapter.complaints import service
from chapter.complaints.models import Complaint, ComplaintContact
from chapter.owners import service as owners
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.points.models import PointEntry
from tests.chapter.complaints.factories import later, load, make_complaint
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_member, make_owner


def in_english(messages) -> list[str]:
    """Lazy messages as an English-speaking user reads them."""
    with force_locale("en"):
        return [str(m) for m in messages]


def _count(model, chapter=None) -> int:
    with unscoped("test: count rows"):
        db.session.expire_all()
        stmt = sa.select(sa.func.count()).select_from(model)
        if chapter is not None:
            stmt = stmt.where(model.chapter_id == chapter.id)
        return db.session.execute(stmt).scalar_one()


def _record(chapter, owner, actor, **fields):
    data = {"channel": "phone", "cause": "repair_quality", "severity": "high",
            "description": "保养后异响", "callback_due_at": later()}
    data.update(fields)
    with chapter_scope(chapter.id):
        complaint = service.record_complaint(owners.get_owner(owner.id), data, actor=actor)
        db.session.commit()
        return complaint.id


def _in(chapter, fn, *args, **kwargs):
    """Run a service function on a fresh load of the complaint in the chapter's scope."""
    with chapter_scope(chapter.id):
        result = fn(*args, **kwargs)
        db.session.commit()
        return result


# --- recording -------------------------------------------------------------------------

def test_staff_record_a_complaint_acknowledged_now_owned_and_with_a_promise(two_chapters):
    a, staff = two_chapters["a"], two_chapters["staff_a"]
    vehicle = make_vehicle(a)
    visit = make_visit(a, vehicle)
    complaint = make_complaint(a, owner=vehicle.owner, staff=staff, visit_id=visit.id)
    assert complaint.acknowledged_at is not None
    assert complaint.assignee_id == staff.id
    assert complaint.callback_due_at > utcnow()
    assert (complaint.vehicle_id, complaint.visit_id) == (vehicle.id, visit.id)
    with chapter_scope(a.id):
        kinds = [e.kind for e in service.timeline(complaint)]
    assert sorted(kinds) == ["acknowledged", "received"]


def test_a_complaint_may_come_from_an_owner_who_is_not_a_member(two_chapters):
    complaint = make_complaint(two_chapters["a"], staff=two_chapters["staff_a"])
    with chapter_scope(two_chapters["a"].id):
        assert service.owner_member(complaint) is None


def test_a_call_back_time_in_the_past_is_refused_and_nothing_is_written(two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        _record(a, owner, two_chapters["staff_a"], callback_due_at=utcnow() - timedelta(hours=1))
    assert in_english(exc.value.fields["callback_due_at"]) == ["The call-back time is in the past."]
    db.session.rollback()
    assert _count(Complaint) == 0


def test_a_staff_complaint_needs_a_promised_call_back(two_chapters):
    with pytest.raises(ValidationFailed) as exc:
        _record(two_chapters["a"], make_owner(two_chapters["a"]), two_chapters["staff_a"],
                callback_due_at=None)
    assert "callback_due_at" in exc.value.fields


def test_a_complaint_about_another_chapters_visit_is_refused(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    visit_b = make_visit(b, make_vehicle(b))
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        _record(a, make_owner(a), two_chapters["staff_a"], visit_id=visit_b.id)
    assert in_english(exc.value.fields["visit_id"]) == ["This service visit is not one of this chapter's."]
    db.session.rollback()
    assert _count(Complaint) == 0


def test_a_complaint_about_another_owners_visit_is_refused(two_chapters):
    a = two_chapters["a"]
    visit = make_visit(a, make_vehicle(a))
    with pytest.raises(ValidationFailed) as exc:
        _record(a, make_owner(a), two_chapters["staff_a"], visit_id=visit.id)
    assert "visit_id" in exc.value.fields


def test_the_visit_gives_the_car_when_no_car_is_chosen(two_chapters):
    a = two_chapters["a"]
    vehicle = make_vehicle(a)
    visit = make_visit(a, vehicle)
    complaint_id = _record(a, vehicle.owner, two_chapters["staff_a"], visit_id=visit.id)
    assert load(a, complaint_id).vehicle_id == vehicle.id


def test_missing_fields_are_all_named(two_chapters):
    with pytest.raises(ValidationFailed) as exc:
        _record(two_chapters["a"], make_owner(two_chapters["a"]), two_chapters["staff_a"],
                channel="fax", cause="", description=" ")
    assert {"channel", "cause", "description"} <= set(exc.value.fields)


def test_the_owner_must_be_a_staff_member_of_the_chapter(two_chapters):
    with pytest.raises(ValidationFailed) as exc:
        _record(two_chapters["a"], make_owner(two_chapters["a"]), two_chapters["staff_a"],
                assignee_id=two_chapters["staff_b"].id)
    assert "assignee_id" in exc.value.fields


def test_another_chapters_complaint_is_not_found(two_chapters):
    complaint = make_complaint(two_chapters["b"])
    with chapter_scope(two_chapters["a"].id), pytest.raises(NotFound):
        service.get_complaint(complaint.id)


# --- portal and hotline complaints wait for the acknowledgement ----------------------------

def test_a_portal_complaint_waits_to_be_acknowledged_with_a_promise(two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    with chapter_scope(a.id):
        complaint = service.raise_from_portal(owners.get_owner(owner.id), {
            "cause": "service_attitude", "description": "顾问态度差"}, actor=None)
        db.session.commit()
        assert (complaint.channel, complaint.raised_by) == ("online", "member")
        assert complaint.acknowledged_at is None and complaint.callback_due_at is None
        service.acknowledge(complaint, assignee_id=two_chapters["staff_a"].id,
                            callback_due_at=later(2), actor=two_chapters["staff_a"])
        db.session.commit()
        assert complaint.acknowledged_at is not None
        assert complaint.ack_minutes == 0
        assert complaint.assignee_id == two_chapters["staff_a"].id


def test_acknowledging_needs_a_promise_not_in_the_past(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a, raised_by="member", callback_due_at=None)
    with chapter_scope(a.id), pytest.raises(ValidationFailed) as exc:
        service.acknowledge(service.get_complaint(complaint.id),
                            assignee_id=two_chapters["staff_a"].id,
                            callback_due_at=utcnow() - timedelta(minutes=30))
    assert "callback_due_at" in exc.value.fields
    db.session.rollback()
    assert load(a, complaint.id).acknowledged_at is None


def test_hq_hotline_complaint_goes_to_the_members_chapter(two_chapters):
    b = two_chapters["b"]
    member = make_member(b)
    complaint = service.route_hotline_complaint({
        "member_number": member.member_number, "cause": "product_quality",
        "description": "车机频繁死机"}, actor=None)
    complaint_id = complaint.id
    db.session.commit()
    stored = load(b, complaint_id)
    assert (stored.chapter_id, stored.channel, stored.raised_by) == (b.id, "hq_hotline", "hq")
    assert stored.owner_id == member.owner_id
    assert stored.acknowledged_at is None


def test_hq_hotline_finds_a_non_member_by_mobile(two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    complaint = service.route_hotline_complaint(
        {"mobile": owner.mobile, "cause": "staff_mistake", "description": "多收费"}, actor=None)
    assert complaint.chapter_id == a.id


def test_hq_hotline_with_an_unknown_caller_is_refused(two_chapters):
    with pytest.raises(ValidationFailed) as exc:
        service.route_hotline_complaint({"mobile": "13900000000", "cause": "staff_mistake",
                                         "description": "x"}, actor=None)
    assert "mobile" in exc.value.fields


# --- contacts ------------------------------------------------------------------------------

def test_a_contact_keeps_the_promise_and_may_promise_again(two_chapters):
    a, staff = two_chapters["a"], two_chapters["staff_a"]
    complaint = make_complaint(a, staff=staff)
    with chapter_scope(a.id):
        c = service.get_complaint(complaint.id)
        service.log_contact(c, "已致电说明进度", actor=staff)
        assert c.callback_due_at is None
        nxt = later(24)
        service.log_contact(c, "约定明天回访", callback_due_at=nxt, actor=staff)
        db.session.commit()
        assert c.callback_due_at == nxt.replace(microsecond=nxt.microsecond)
        kinds = [e.kind for e in service.timeline(c)]
    assert kinds.count("contact") == 2 and "promise" in kinds


def test_a_contact_needs_a_note(two_chapters):
    complaint = make_complaint(two_chapters["a"])
    with chapter_scope(two_chapters["a"].id), pytest.raises(ValidationFailed) as exc:
        service.log_contact(service.get_complaint(complaint.id), "  ")
    assert "note" in exc.value.fields


# --- closing -------------------------------------------------------------------------------

def _close(chapter, complaint_id, actor=None, **data):
    with chapter_scope(chapter.id):
        result = service.close_complaint(service.get_complaint(complaint_id), data, actor=actor)
        db.session.commit()
        return result


def test_closing_without_a_resolution_is_refused_and_nothing_is_written(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a)
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        _close(a, complaint.id, resolution="  ", satisfaction=4)
    assert in_english(exc.value.fields["resolution"]) == ["Say how the complaint was resolved."]
    db.session.rollback()
    stored = load(a, complaint.id)
    assert (stored.status, stored.resolution, stored.satisfaction) == ("open", None, None)


def test_closing_records_resolution_and_satisfaction(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a)
    _close(a, complaint.id, resolution="免费返修", satisfaction=5)
    stored = load(a, complaint.id)
    assert (stored.status, stored.resolution, stored.satisfaction) == ("closed", "免费返修", 5)
    assert stored.closed_at is not None and stored.close_minutes is not None
    assert stored.callback_due_at is None


@pytest.mark.parametrize("score", [0, 6, "x"])
def test_satisfaction_is_one_to_five(two_chapters, score):
    complaint = make_complaint(two_chapters["a"])
    with pytest.raises(ValidationFailed) as exc:
        _close(two_chapters["a"], complaint.id, resolution="ok", satisfaction=score)
    assert "satisfaction" in exc.value.fields


def test_goodwill_points_go_to_the_member_funded_by_the_chapter_once(two_chapters):
    a, manager = two_chapters["a"], two_chapters["manager_a"]
    member = make_member(a, by=manager)
    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    before = _balance(a, member.id)
    _close(a, complaint.id, actor=manager, resolution="返修", goodwill_kind="points",
           goodwill_points=300, goodwill_reason="维修延误")
    _close(a, complaint.id, actor=manager, resolution="返修", goodwill_kind="points",
           goodwill_points=300, goodwill_reason="维修延误")  # a double submit
    with unscoped("test: the ledger"):
        entries = db.session.execute(sa.select(PointEntry).where(
            PointEntry.idempotency_key == f"goodwill:{complaint.id}")).scalars().all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.points, entry.funder, entry.chapter_id, entry.kind) == (300, "chapter", a.id, "earn")
    assert _balance(a, member.id) == before + 300


def owners_owner(chapter, owner_id):
    with chapter_scope(chapter.id):
        return owners.get_owner(owner_id)


def _balance(chapter, member_id):
    from hq.members.models import Member

    with chapter_scope(chapter.id):
        db.session.expire_all()
        return db.session.execute(
            sa.select(Member.points_balance).where(Member.id == member_id)).scalar_one()


def test_goodwill_without_a_reason_is_refused_and_nothing_is_written(two_chapters):
    a = two_chapters["a"]
    member = make_member(a, by=two_chapters["manager_a"])
    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        _close(a, complaint.id, resolution="返修", goodwill_kind="points", goodwill_points=100)
    assert in_english(exc.value.fields["goodwill_reason"]) == ["Give the reason for the goodwill."]
    db.session.rollback()
    assert load(a, complaint.id).status == "open"
    assert _goodwill_entries(complaint.id) == 0


def _goodwill_entries(complaint_id):
    with unscoped("test: the ledger"):
        return db.session.execute(sa.select(sa.func.count()).select_from(PointEntry).where(
            PointEntry.idempotency_key == f"goodwill:{complaint_id}")).scalar_one()


def test_goodwill_beyond_the_chapters_limit_is_refused(two_chapters):
    a = two_chapters["a"]
    _in(a, service.update_limits, a.id, {"goodwill_limit_points": 500},
        actor=two_chapters["manager_a"])
    member = make_member(a, by=two_chapters["manager_a"])
    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        _close(a, complaint.id, resolution="返修", goodwill_kind="points", goodwill_points=501,
               goodwill_reason="延误")
    assert in_english(exc.value.fields["goodwill_points"]) == [
        "At most 500 goodwill points per complaint (the chapter's limit)."]
    db.session.rollback()
    assert load(a, complaint.id).status == "open"
    assert _goodwill_entries(complaint.id) == 0


def test_goodwill_points_need_an_active_member(two_chapters):
    complaint = make_complaint(two_chapters["a"])
    with pytest.raises(ValidationFailed) as exc:
        _close(two_chapters["a"], complaint.id, resolution="返修", goodwill_kind="points",
               goodwill_points=100, goodwill_reason="延误")
    assert "goodwill_kind" in exc.value.fields


def test_a_service_voucher_needs_its_description_and_reason(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a)
    with pytest.raises(ValidationFailed) as exc:
        _close(a, complaint.id, resolution="返修", goodwill_kind="voucher")
    assert {"goodwill_reason", "voucher_note"} <= set(exc.value.fields)
    db.session.rollback()
    _close(a, complaint.id, resolution="返修", goodwill_kind="voucher",
           goodwill_reason="体验补偿", voucher_note="免费洗车一次")
    assert load(a, complaint.id).voucher_note == "免费洗车一次"


# --- reopening -----------------------------------------------------------------------------

def test_reopening_keeps_the_history(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a)
    _close(a, complaint.id, resolution="返修", satisfaction=3)
    _in(a, lambda: service.reopen_complaint(service.get_complaint(complaint.id), "问题复现"))
    stored = load(a, complaint.id)
    assert (stored.status, stored.reopen_count, stored.resolution) == ("open", 1, "返修")
    with chapter_scope(a.id):
        kinds = [e.kind for e in service.timeline(stored)]
    assert {"closed", "reopened"} <= set(kinds)
    _close(a, complaint.id, resolution="彻底解决", satisfaction=5)
    assert load(a, complaint.id).reopen_count == 1


def test_reopening_needs_a_reason_and_a_closed_complaint(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a)
    with chapter_scope(a.id):
        with pytest.raises(Conflict):
            service.reopen_complaint(service.get_complaint(complaint.id), "再次")
    _close(a, complaint.id, resolution="返修")
    with chapter_scope(a.id), pytest.raises(ValidationFailed):
        service.reopen_complaint(service.get_complaint(complaint.id), "")


def test_goodwill_points_are_given_once_even_after_a_reopen(two_chapters):
    a = two_chapters["a"]
    member = make_member(a, by=two_chapters["manager_a"])
    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    _close(a, complaint.id, resolution="返修", goodwill_kind="points", goodwill_points=100,
           goodwill_reason="延误")
    _in(a, lambda: service.reopen_complaint(service.get_complaint(complaint.id), "复现"))
    with pytest.raises(Conflict):
        _close(a, complaint.id, resolution="再修", goodwill_kind="points", goodwill_points=100,
               goodwill_reason="再次延误")
    assert _goodwill_entries(complaint.id) == 1


# --- escalation ----------------------------------------------------------------------------

def test_a_missed_promise_is_escalated_once(two_chapters):
    a = two_chapters["a"]
    received = utcnow() - timedelta(hours=5)
    complaint = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=2))
    first = _in(a, service.escalate_due, a.id)
    second = _in(a, service.escalate_due, a.id)
    assert (first["promise_missed"], second["escalated"]) == (1, 0)
    stored = load(a, complaint.id)
    assert stored.escalation_reason == "promise_missed" and stored.escalated_at is not None
    with chapter_scope(a.id):
        assert [c.id for c in db.session.execute(service.escalated_query()).scalars()] == [complaint.id]


def test_a_complaint_open_beyond_the_chapters_limit_is_escalated(two_chapters):
    a = two_chapters["a"]
    _in(a, service.update_limits, a.id, {"open_limit_days": 3}, actor=two_chapters["manager_a"])
    received = utcnow() - timedelta(days=4)
    complaint = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=2))
    with chapter_scope(a.id):  # the promise was kept
        service.log_contact(service.get_complaint(complaint.id), "已回电", now=received)
        db.session.commit()
    recent = make_complaint(a, now=utcnow() - timedelta(days=2), callback_due_at=later(4))
    counts = _in(a, service.escalate_due, a.id)
    assert counts["open_too_long"] == 1
    assert load(a, complaint.id).escalation_reason == "open_too_long"
    assert load(a, recent.id).escalated_at is None


def test_a_complaint_not_acknowledged_the_day_it_came_in_is_escalated(two_chapters):
    a = two_chapters["a"]
    complaint = make_complaint(a, raised_by="member", now=utcnow() - timedelta(days=1, hours=1),
                               callback_due_at=None)
    today = make_complaint(a, raised_by="member", callback_due_at=None)
    _in(a, service.escalate_due, a.id)
    assert load(a, complaint.id).escalation_reason == "not_acknowledged"
    assert load(a, today.id).escalated_at is None


def test_escalation_leaves_other_chapters_alone(two_chapters):
    b = two_chapters["b"]
    received = utcnow() - timedelta(hours=5)
    complaint = make_complaint(b, now=received, callback_due_at=received + timedelta(hours=1))
    _in(two_chapters["a"], service.escalate_due, two_chapters["a"].id)
    assert load(b, complaint.id).escalated_at is None


def test_closed_complaints_are_not_escalated(two_chapters):
    a = two_chapters["a"]
    received = utcnow() - timedelta(days=30)
    complaint = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=1))
    _close(a, complaint.id, resolution="ok")
    assert _in(a, service.escalate_due, a.id)["escalated"] == 0


# --- limits --------------------------------------------------------------------------------

def test_limits_have_defaults_and_only_the_manager_changes_them(two_chapters):
    a = two_chapters["a"]
    with chapter_scope(a.id):
        assert service.limits(a.id) == service.Limits(7, 2000)
        with pytest.raises(PermissionDenied):
            service.update_limits(a.id, {"open_limit_days": 2}, actor=two_chapters["staff_a"])
        with pytest.raises(ValidationFailed):
            service.update_limits(a.id, {"open_limit_days": 0}, actor=two_chapters["manager_a"])
    _in(a, service.update_limits, a.id, {"open_limit_days": 2}, actor=two_chapters["manager_a"])
    with chapter_scope(a.id):
        assert service.limits(a.id).open_limit_days == 2
    with chapter_scope(two_chapters["b"].id):
        assert service.limits(two_chapters["b"].id).open_limit_days == 7


# --- flags for churn lists -----------------------------------------------------------------

def test_owners_and_members_with_an_open_complaint_can_be_joined(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member = make_member(a, by=two_chapters["manager_a"])
    open_one = make_complaint(a, owner=owners_owner(a, member.owner_id))
    closed_one = make_complaint(a)
    _close(a, closed_one.id, resolution="ok")
    make_complaint(b)
    with unscoped("test: a Core select"):
        owner_ids = set(db.session.execute(service.open_complaint_owner_ids(a.id)).scalars())
        member_ids = set(db.session.execute(service.open_complaint_member_ids(a.id)).scalars())
    assert owner_ids == {open_one.owner_id}
    assert member_ids == {member.id}
    with chapter_scope(a.id):
        assert service.open_complaint_counts([open_one.owner_id, closed_one.owner_id]) == {
            open_one.owner_id: 1}


def test_the_timeline_of_a_complaint_stays_in_its_chapter(two_chapters):
    make_complaint(two_chapters["b"])
    with chapter_scope(two_chapters["a"].id):
        assert db.session.execute(sa.select(ComplaintContact)).all() == []
