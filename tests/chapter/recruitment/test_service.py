"""Recruitment rules: who may apply, how applications are decided, one member per person."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from chapter.recruitment import service
from chapter.recruitment.models import Application
from clubplatform import dates
from clubplatform.errors import Conflict, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members.models import MemberConsent, MemberIdentity
from hq.members.service import AlreadyMember
from tests.chapter.recruitment.factories import id_number, make_application, make_member_of
from tests.factories import make_owner


def _submit(chapter, owner, **kw):
    with chapter_scope(chapter.id):
        owner = db.session.merge(owner)
        return service.submit_application(owner, **{"source": "showroom", **kw})


def _approve(chapter, application_id, manager, **kw):
    with chapter_scope(chapter.id):
        application = service.get_application(application_id)
        member = service.approve_application(application, actor=manager, **kw)
        db.session.commit()
        return member


def test_staff_registers_a_pending_application_dated_today(two_chapters):
    a = two_chapters["a"]
    application = _submit(a, make_owner(a), source="service_visit", actor=two_chapters["staff_a"])
    assert (application.status, application.source, application.applied_on) == (
        "pending", "service_visit", dates.today())


def test_an_unknown_source_is_refused_naming_the_field(two_chapters):
    a = two_chapters["a"]
    with pytest.raises(ValidationFailed) as err:
        _submit(a, make_owner(a), source="billboard")
    assert "source" in err.value.fields


def test_a_company_owner_cannot_apply(two_chapters):
    a = two_chapters["a"]
    with pytest.raises(ValidationFailed) as err:
        _submit(a, make_owner(a, kind="company", name="某某汽车租赁有限公司"))
    assert "owner_id" in err.value.fields


def test_an_owner_with_an_open_application_cannot_apply_again(two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    make_application(a, owner)
    with pytest.raises(Conflict) as err:
        _submit(a, owner, source="event")
    with force_locale("en"):
        assert "open application" in str(err.value.message)


def test_an_owner_whose_application_was_rejected_may_apply_again(two_chapters):
    a, manager = two_chapters["a"], two_chapters["manager_a"]
    owner = make_owner(a)
    first = make_application(a, owner)
    with chapter_scope(a.id):
        service.reject_application(service.get_application(first.id), "资料不全", actor=manager)
        db.session.commit()
    assert _submit(a, owner).status == "pending"


def test_a_member_of_this_chapter_cannot_apply_again(two_chapters):
    a = two_chapters["a"]
    member = make_member_of(a, by=two_chapters["manager_a"])
    with chapter_scope(a.id):
        owner_id = member.owner_id
    with pytest.raises(Conflict):
        with chapter_scope(a.id):
            service.submit_application_for(owner_id, source="showroom")


def test_an_application_dated_in_the_future_is_refused(two_chapters):
    a = two_chapters["a"]
    with pytest.raises(ValidationFailed) as err:
        _submit(a, make_owner(a), applied_on=dates.today() + timedelta(days=1))
    assert "applied_on" in err.value.fields


def test_applying_for_another_chapters_owner_names_the_owner_field(two_chapters):
    other = make_owner(two_chapters["b"])
    with pytest.raises(ValidationFailed) as err:
        with chapter_scope(two_chapters["a"].id):
            service.submit_application_for(other.id, source="showroom")
    assert "owner_id" in err.value.fields


def test_approval_makes_the_owner_a_member_with_a_member_number(two_chapters):
    a = two_chapters["a"]
    application = make_application(a, source="referral")
    member = _approve(a, application.id, two_chapters["manager_a"])
    with chapter_scope(a.id):
        member = db.session.merge(member)
        assert re.fullmatch(r"M\d{8}", member.member_number)
        assert (member.status, member.source, member.joined_on, member.chapter_id) == (
            "active", "referral", dates.today(), a.id)


def test_approval_marks_the_application_approved_with_its_member(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    member = _approve(a, application.id, two_chapters["manager_a"])
    with chapter_scope(a.id):
        application = service.get_application(application.id)
        assert (application.status, application.member_id, application.decided_on) == (
            "approved", member.id, dates.today())


def test_approval_records_the_initial_consent_of_each_channel_given(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    member = _approve(a, application.id, two_chapters["manager_a"],
                      consents={"sms": True, "email": False})
    rows = db.session.execute(sa.select(MemberConsent.channel, MemberConsent.granted, MemberConsent.source)
                              .where(MemberConsent.member_id == member.id)
                              .order_by(MemberConsent.channel)).all()
    assert rows == [("email", False, "application"), ("sms", True, "application")]


def test_approval_with_an_unknown_consent_channel_is_refused(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    with pytest.raises(ValidationFailed) as err:
        _approve(a, application.id, two_chapters["manager_a"], consents={"wechat": True})
    assert "consents" in err.value.fields


def test_rejection_needs_a_reason(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    with chapter_scope(a.id):
        with pytest.raises(ValidationFailed) as err:
            service.reject_application(service.get_application(application.id), "  ",
                                       actor=two_chapters["manager_a"])
    assert "reason" in err.value.fields


def test_rejection_keeps_the_reason_with_the_application(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    with chapter_scope(a.id):
        service.reject_application(service.get_application(application.id), "非本店车主",
                                   actor=two_chapters["manager_a"])
        db.session.commit()
        application = service.get_application(application.id)
        assert (application.status, application.reason) == ("rejected", "非本店车主")


def test_an_approved_application_cannot_be_approved_again(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    _approve(a, application.id, two_chapters["manager_a"])
    with pytest.raises(Conflict) as err:
        _approve(a, application.id, two_chapters["manager_a"])
    assert "status" in err.value.fields


def test_a_rejected_application_cannot_be_approved(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    with chapter_scope(a.id):
        service.reject_application(service.get_application(application.id), "重复",
                                   actor=two_chapters["manager_a"])
        db.session.commit()
    with pytest.raises(Conflict):
        _approve(a, application.id, two_chapters["manager_a"])


def test_an_approved_application_cannot_be_rejected(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    _approve(a, application.id, two_chapters["manager_a"])
    with chapter_scope(a.id):
        with pytest.raises(Conflict):
            service.reject_application(service.get_application(application.id), "改主意",
                                       actor=two_chapters["manager_a"])


# --- a person is a member at most once on the whole platform ------------------------

def test_the_same_mobile_applying_in_b_after_joining_in_a_gets_already_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    make_member_of(a, mobile="13912345678")
    with pytest.raises(AlreadyMember):
        _submit(b, make_owner(b, mobile="13912345678"))


def test_the_same_id_number_applying_in_b_after_joining_in_a_gets_already_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    person = id_number()
    make_member_of(a, mobile="13912345678", id_number=person)
    with pytest.raises(AlreadyMember):
        _submit(b, make_owner(b, mobile="13700000001", id_number=person))


def test_the_already_member_error_names_no_chapter_and_no_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member = make_member_of(a, mobile="13912345678", name="张三")
    with pytest.raises(AlreadyMember) as err:
        _submit(b, make_owner(b, mobile="13912345678", name="张叁"))
    text = str(err.value.message) + repr(err.value.field_messages())
    for secret in (a.name, a.dealer.code, member.member_number, "张三"):
        assert secret not in text


def test_approval_in_b_of_a_person_who_joined_a_meanwhile_gets_already_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    waiting = make_application(b, mobile="13912345678")
    make_member_of(a, mobile="13912345678")
    with pytest.raises(AlreadyMember):
        _approve(b, waiting.id, two_chapters["manager_b"])


def test_an_application_refused_as_already_member_stays_pending_and_writes_nothing(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    waiting = make_application(b, mobile="13912345678")
    make_member_of(a, mobile="13912345678")
    with pytest.raises(AlreadyMember):
        _approve(b, waiting.id, two_chapters["manager_b"])
    db.session.rollback()
    with chapter_scope(b.id):
        assert service.get_application(waiting.id).status == "pending"
    assert db.session.execute(sa.select(sa.func.count()).select_from(MemberIdentity)).scalar() == 1


def test_a_person_already_member_here_under_another_owner_record_is_told_so_plainly(two_chapters):
    a = two_chapters["a"]
    first = make_owner(a, mobile="13912345678")
    make_member_of(a, first)
    with chapter_scope(a.id):
        db.session.merge(first).mobile = "13800000002"  # the owner record's mobile changed
        db.session.commit()
    with pytest.raises(Conflict) as err:
        _submit(a, make_owner(a, mobile="13912345678"))
    assert not isinstance(err.value, AlreadyMember)
    with force_locale("en"):
        assert "this chapter" in str(err.value.message)


# --- lists and counts ---------------------------------------------------------------

def test_counts_are_given_by_status_and_by_source(two_chapters):
    a = two_chapters["a"]
    make_application(a, source="event")
    make_application(a, source="event")
    make_member_of(a)
    make_application(two_chapters["b"], source="event")
    with chapter_scope(a.id):
        counts = service.application_counts()
    assert (counts.by_status["pending"], counts.by_status["approved"], counts.total) == (2, 1, 3)
    assert (counts.by_source["event"], counts.by_source["showroom"]) == (2, 1)


def test_the_owner_search_marks_owners_who_cannot_apply(two_chapters):
    a = two_chapters["a"]
    make_member_of(a, name="王一")
    make_application(a, name="王二")
    make_owner(a, name="王三")
    with chapter_scope(a.id):
        found = {o.name: why for o, why in service.owner_candidates("王")}
    assert found["王三"] is None and found["王一"] is not None and found["王二"] is not None


def test_the_owner_search_leaves_out_companies(two_chapters):
    a = two_chapters["a"]
    make_owner(a, kind="company", name="王氏物流有限公司")
    with chapter_scope(a.id):
        assert service.owner_candidates("王氏") == []


def test_pending_as_of_counts_an_application_until_the_day_before_its_decision(two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    today = dates.today()
    with chapter_scope(a.id):
        db.session.execute(sa.update(Application).where(Application.id == application.id)
                           .values(applied_on=today - timedelta(days=10), status="rejected",
                                   reason="x", decided_on=today - timedelta(days=3)))
        pending = [len(db.session.execute(service.pending_as_of(a.id, today - timedelta(days=d)))
                       .all()) for d in (11, 10, 4, 3)]
    assert pending == [0, 1, 1, 0]
