"""Transfers between chapters: request, the receiving chapter's decision, the move itself."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform import dates
from clubplatform.audit.models import AuditLog
from clubplatform.errors import Conflict, PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.members import service as members
from hq.members.models import MemberStatusPeriod, Transfer
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_chapter, make_owner, make_user

JOINED = date(2024, 1, 10)


def _approve(transfer_id: int, manager):
    with chapter_scope(manager.chapter_id):
        transfer = members.get_transfer(transfer_id, chapter_id=manager.chapter_id)
        members.approve_transfer(transfer, manager)
        db.session.commit()


def _as_of(chapter_id: int, day: date) -> set[int]:
    with unscoped("test: figures"):
        return set(db.session.execute(members.members_as_of(chapter_id, day)).scalars())


def test_approval_moves_the_member_and_both_chapters_keep_their_past(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    yesterday = dates.today() - timedelta(days=1)
    before = {(c.id, d): _as_of(c.id, d) for c in (a, b) for d in (JOINED, yesterday)}
    transfer = make_transfer(member_id, b)

    _approve(transfer.id, two_chapters["manager_b"])

    for (chapter_id, day), ids in before.items():
        assert _as_of(chapter_id, day) == ids
    assert member_id in _as_of(a.id, yesterday)
    assert member_id not in _as_of(a.id, dates.today())
    assert member_id in _as_of(b.id, dates.today())
    assert load_member(member_id).chapter_id == b.id


def test_history_keeps_both_chapters_with_dates_and_reasons(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    _approve(make_transfer(member_id, b).id, two_chapters["manager_b"])
    with unscoped("test: history"):
        periods = db.session.execute(
            sa.select(MemberStatusPeriod).where(MemberStatusPeriod.member_id == member_id)
            .order_by(MemberStatusPeriod.valid_from)).scalars().all()
        got = [(p.chapter_id, p.status, p.valid_from, p.valid_to, p.reason, p.end_reason)
               for p in periods]
    today = dates.today()
    assert got == [(a.id, "active", JOINED, today, "joined", "transfer_out"),
                   (b.id, "active", today, None, "transfer_in", None)]


def test_a_suspended_member_arrives_suspended(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    with chapter_scope(a.id):
        members.change_status(load_member(member_id), "suspended", on=date(2024, 3, 1))
        db.session.commit()
    _approve(make_transfer(member_id, b).id, two_chapters["manager_b"])
    with unscoped("test"):
        status = db.session.execute(sa.select(MemberStatusPeriod.status).where(
            MemberStatusPeriod.chapter_id == b.id,
            MemberStatusPeriod.member_id == member_id)).scalar_one()
    assert status == "suspended"
    assert load_member(member_id).status == "suspended"


def test_points_and_tier_move_with_the_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    with unscoped("test"):
        member = load_member(member_id)
        member.points_balance, member.tier = 1234, "gold"
        db.session.commit()
    _approve(make_transfer(member_id, b).id, two_chapters["manager_b"])
    with chapter_scope(b.id):
        member = members.get_member(member_id)
        assert (member.points_balance, member.tier) == (1234, "gold")


def test_the_receiving_chapter_gets_an_owner_record_made_from_the_member(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED, name="王小明", email="wang@example.com")
    _approve(make_transfer(member_id, b).id, two_chapters["manager_b"])
    member = load_member(member_id)
    with chapter_scope(b.id):
        owner = db.session.execute(sa.select(Owner).where(Owner.id == member.owner_id)).scalar_one()
        assert (owner.name, owner.mobile, owner.email) == ("王小明", member.mobile,
                                                           "wang@example.com")


def test_an_existing_owner_with_the_mobile_in_the_receiving_chapter_is_reused(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    existing = make_owner(b, mobile=load_member(member_id).mobile, name="老客户")
    _approve(make_transfer(member_id, b).id, two_chapters["manager_b"])
    assert load_member(member_id).owner_id == existing.id
    with chapter_scope(b.id):
        assert db.session.execute(sa.select(sa.func.count()).select_from(Owner)).scalar_one() == 1


def test_the_approval_is_in_both_chapters_audit_logs(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    transfer = make_transfer(make_member_since(a, JOINED), b)
    _approve(transfer.id, two_chapters["manager_b"])
    chapters = db.session.execute(sa.select(AuditLog.chapter_id).where(
        AuditLog.action == "transfer_approved",
        AuditLog.target_id == str(transfer.id))).scalars().all()
    assert sorted(chapters) == sorted([a.id, b.id])


@pytest.mark.parametrize("who", ["staff_b", "manager_a"])
def test_only_the_receiving_chapters_manager_approves(two_chapters, who):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    user = two_chapters[who]
    with chapter_scope(user.chapter_id), pytest.raises(PermissionDenied):
        members.approve_transfer(members.get_transfer(transfer.id), user)


def test_a_second_open_request_for_the_same_member_is_refused(two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    make_transfer(member_id, two_chapters["b"])
    with pytest.raises(Conflict) as err:
        make_transfer(member_id, make_chapter())
    assert "member_id" in err.value.fields


def test_a_transfer_to_the_members_own_chapter_is_refused(two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    with pytest.raises(ValidationFailed) as err:
        make_transfer(member_id, two_chapters["a"])
    assert "to_chapter_id" in err.value.fields


def test_a_transfer_to_a_closed_chapter_is_refused(two_chapters):
    closed = make_chapter()
    closed.closed_on = date(2024, 6, 1)
    db.session.commit()
    with pytest.raises(ValidationFailed) as err:
        make_transfer(make_member_since(two_chapters["a"], JOINED), closed)
    assert "to_chapter_id" in err.value.fields


def test_a_member_who_left_cannot_transfer(two_chapters):
    a = two_chapters["a"]
    member_id = make_member_since(a, JOINED)
    with chapter_scope(a.id):
        members.change_status(load_member(member_id), "left", on=date(2024, 5, 1),
                              reason="不再用车")
        db.session.commit()
    with pytest.raises(ValidationFailed):
        make_transfer(member_id, two_chapters["b"])


def test_a_decided_transfer_cannot_be_approved_again(two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    _approve(transfer.id, two_chapters["manager_b"])
    with pytest.raises(Conflict):
        _approve(transfer.id, two_chapters["manager_b"])


def test_a_rejection_needs_a_reason_and_keeps_it(two_chapters):
    manager_b = two_chapters["manager_b"]
    member_id = make_member_since(two_chapters["a"], JOINED)
    transfer = make_transfer(member_id, two_chapters["b"])
    with chapter_scope(manager_b.chapter_id):
        with pytest.raises(ValidationFailed) as err:
            members.reject_transfer(members.get_transfer(transfer.id), "  ", manager_b)
        assert "note" in err.value.fields
        members.reject_transfer(members.get_transfer(transfer.id), "名额已满", manager_b)
        db.session.commit()
    with unscoped("test"):
        row = db.session.get(Transfer, transfer.id)
        assert (row.status, row.decision_note) == ("rejected", "名额已满")
    assert load_member(member_id).chapter_id == two_chapters["a"].id


def test_the_requesting_manager_can_withdraw_but_the_receiving_staff_cannot(two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"],
                             by=two_chapters["manager_a"])
    with pytest.raises(PermissionDenied):
        members.cancel_transfer(members.get_transfer(transfer.id), two_chapters["staff_b"])
    members.cancel_transfer(members.get_transfer(transfer.id), two_chapters["manager_a"])
    db.session.commit()
    assert db.session.get(Transfer, transfer.id).status == "cancelled"


# --- asked for by the receiving chapter, by identity ----------------------------------

def _ask(chapter, **identity):
    user = make_user("chapter_staff", chapter=chapter)
    with chapter_scope(chapter.id):
        result = members.request_transfer_by_identity(chapter.id, reason="搬到本市",
                                                      actor=user, **identity)
        db.session.commit()
    return result


def _transfers_to(chapter_id: int) -> list[Transfer]:
    return db.session.execute(
        sa.select(Transfer).where(Transfer.to_chapter_id == chapter_id)).scalars().all()


def test_asking_by_mobile_creates_a_request_for_a_member_elsewhere(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    assert _ask(b, mobile=load_member(member_id).mobile) is None
    [transfer] = _transfers_to(b.id)
    assert (transfer.member_id, transfer.from_chapter_id, transfer.status) == (
        member_id, a.id, "requested")


def test_asking_by_id_number_finds_the_member_by_its_blind_index(two_chapters):
    from tests.chapter.recruitment.factories import id_number

    number = id_number(date(1990, 2, 3))
    member_id = make_member_since(two_chapters["a"], JOINED, id_number=number)
    _ask(two_chapters["b"], id_number=number.lower())
    assert [t.member_id for t in _transfers_to(two_chapters["b"].id)] == [member_id]


def test_asking_for_someone_who_is_no_member_answers_the_same_and_creates_nothing(two_chapters):
    b = two_chapters["b"]
    assert _ask(b, mobile="13900001111") is None
    assert _transfers_to(b.id) == []


def test_asking_with_a_mobile_and_an_id_of_different_people_creates_nothing(two_chapters):
    from tests.chapter.recruitment.factories import id_number

    a = two_chapters["a"]
    first = make_member_since(a, JOINED)
    number = id_number(date(1991, 4, 5))
    make_member_since(a, JOINED, id_number=number)
    assert _ask(two_chapters["b"], mobile=load_member(first).mobile, id_number=number) is None
    assert _transfers_to(two_chapters["b"].id) == []


def test_asking_for_ones_own_member_says_so(two_chapters):
    a = two_chapters["a"]
    member_id = make_member_since(a, JOINED)
    with pytest.raises(ValidationFailed) as err:
        _ask(a, mobile=load_member(member_id).mobile)
    assert "mobile" in err.value.fields


def test_asking_with_an_invalid_mobile_names_the_field(two_chapters):
    with pytest.raises(ValidationFailed) as err:
        _ask(two_chapters["b"], mobile="12345")
    assert "mobile" in err.value.fields


def test_asking_with_nothing_names_the_mobile_field(two_chapters):
    with pytest.raises(ValidationFailed) as err:
        _ask(two_chapters["b"])
    assert "mobile" in err.value.fields


def test_asking_twice_answers_the_same_and_keeps_one_request(two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    mobile = load_member(member_id).mobile
    assert _ask(two_chapters["b"], mobile=mobile) is None
    assert _ask(two_chapters["b"], mobile=mobile) is None
    assert len(_transfers_to(two_chapters["b"].id)) == 1


# --- what each side sees --------------------------------------------------------------

def _view_for(transfer_id: int, chapter_id: int | None):
    return members.transfer_views([db.session.get(Transfer, transfer_id)],
                                  chapter_id=chapter_id)[0]


def test_the_receiving_chapter_sees_nothing_of_the_other_chapter_before_approval(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED, name="张三丰")
    transfer = make_transfer(member_id, b)
    view = _view_for(transfer.id, b.id)
    assert (view.member_name, view.member_number, view.from_chapter_name) == ("张**", None, None)
    assert view.requested_by_name != two_chapters["manager_a"].display_name


def test_the_receiving_chapter_sees_the_member_after_approval(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED, name="张三丰")
    transfer = make_transfer(member_id, b)
    _approve(transfer.id, two_chapters["manager_b"])
    view = _view_for(transfer.id, b.id)
    assert (view.member_name, view.from_chapter_name) == ("张三丰", a.name)


def test_the_sending_chapter_sees_where_its_member_is_going(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    transfer = make_transfer(make_member_since(a, JOINED, name="李四"), b)
    view = _view_for(transfer.id, a.id)
    assert (view.direction, view.member_name, view.to_chapter_name) == ("out", "李四", b.name)


def test_a_chapter_not_involved_does_not_find_the_transfer(two_chapters):
    from clubplatform.errors import NotFound

    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), make_chapter())
    with pytest.raises(NotFound):
        members.get_transfer(transfer.id, chapter_id=two_chapters["b"].id)


def test_a_chapter_lists_only_transfers_it_sends_or_receives(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    out = make_transfer(make_member_since(a, JOINED), make_chapter())
    elsewhere = make_transfer(make_member_since(make_chapter(), JOINED), make_chapter())
    into = make_transfer(make_member_since(make_chapter(), JOINED), a)
    ids = set(db.session.execute(members.transfer_query(chapter_id=a.id)).scalars())
    assert {t.id for t in ids} == {out.id, into.id}
    assert elsewhere.id not in {t.id for t in ids}
    assert b.id not in {t.to_chapter_id for t in ids}
