"""Anonymisation on request: personal data goes everywhere, ledger and statistics stay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform import dates
from clubplatform.audit.models import AuditLog
from clubplatform.auth.models import User
from clubplatform.errors import Conflict
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.members import service as members
from hq.members.models import MemberConsent, MemberIdentity, Transfer
from tests.chapter.recruitment.factories import id_number, make_member_of
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_user

JOINED = date(2024, 1, 10)


def _anonymise(member_id: int, admin=None):
    admin = admin or make_user("hq_admin")
    with unscoped("test: anonymise"):
        members.anonymise_member(load_member(member_id), admin, "10.0.0.1")
        db.session.commit()
    return admin


def _owners_everywhere() -> list[Owner]:
    with unscoped("test: owners"):
        return db.session.execute(sa.select(Owner).order_by(Owner.id)).scalars().all()


@pytest.fixture
def moved_member(two_chapters):
    """A member who joined in A (with ID number, e-mail, hobbies) and moved to B."""
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED, name="赵六", id_number=id_number(date(1988, 8, 8)),
                                  email="zhao@example.com", hobbies="摄影, 自驾游",
                                  address="上海市黄浦区1号")
    transfer = make_transfer(member_id, b)
    with chapter_scope(b.id):
        members.approve_transfer(members.get_transfer(transfer.id), two_chapters["manager_b"])
        db.session.commit()
    return member_id


def test_personal_fields_of_the_member_are_replaced(moved_member):
    _anonymise(moved_member)
    m = load_member(moved_member)
    assert m.name == members.ANONYMISED_NAME
    assert (m.mobile, m.id_number_enc, m.id_number_digest, m.id_number_masked, m.birthday,
            m.email, m.gender, m.hobbies) == (None, None, None, None, None, None, None, [])
    assert m.anonymised_at is not None


def test_the_owner_records_in_every_chapter_are_anonymised(moved_member):
    assert len(_owners_everywhere()) == 2  # the original in A, the one made in B
    _anonymise(moved_member)
    for owner in _owners_everywhere():
        assert owner.name == members.ANONYMISED_NAME
        assert (owner.mobile, owner.id_number_enc, owner.id_number_digest, owner.birthday,
                owner.email, owner.address, owner.hobbies) == (None,) * 6 + ([],)
        assert owner.anonymised_at is not None


def test_the_member_number_points_and_history_stay(moved_member):
    with unscoped("test"):
        m = load_member(moved_member)
        m.points_balance = 880
        number = m.member_number
        db.session.commit()
    _anonymise(moved_member)
    m = load_member(moved_member)
    assert (m.member_number, m.points_balance) == (number, 880)
    assert m.joined_on == JOINED


def test_counts_for_past_dates_do_not_change(two_chapters, moved_member):
    yesterday = dates.today() - timedelta(days=1)
    days = (JOINED, date(2024, 6, 30), yesterday)

    def counts():
        with unscoped("test: figures"):
            return {(c, d): sorted(db.session.execute(members.members_as_of(c, d)).scalars())
                    for c in (two_chapters["a"].id, two_chapters["b"].id) for d in days}

    before = counts()
    _anonymise(moved_member)
    assert counts() == before


def test_the_membership_ends_today(moved_member):
    _anonymise(moved_member)
    m = load_member(moved_member)
    assert (m.status, m.status_since) == ("left", dates.today())


def test_identities_go_so_the_person_may_join_again_as_someone_new(two_chapters):
    a = two_chapters["a"]
    mobile = "13700007777"
    member_id = make_member_of(a, mobile=mobile).id
    _anonymise(member_id)
    assert db.session.execute(sa.select(MemberIdentity).where(
        MemberIdentity.member_id == member_id)).first() is None
    again = make_member_of(a, mobile=mobile)
    assert again.id != member_id


def test_consents_are_withdrawn_with_history(two_chapters):
    member_id = make_member_of(two_chapters["a"], consents={"sms": True, "email": True}).id
    _anonymise(member_id)
    m = load_member(member_id)
    assert not any((m.consent_sms, m.consent_email, m.consent_phone, m.consent_portal))
    rows = db.session.execute(sa.select(MemberConsent.channel, MemberConsent.granted).where(
        MemberConsent.member_id == member_id).order_by(MemberConsent.id)).all()
    assert rows[-2:] == [("sms", False), ("email", False)]


def test_the_portal_account_is_closed(two_chapters):
    member_id = make_member_of(two_chapters["a"]).id
    user = make_user("member", username="m13800001234", display_name="赵六",
                     email="zhao@example.com")
    with unscoped("test"):
        load_member(member_id).user_id = user.id
        db.session.commit()
    _anonymise(member_id)
    user = db.session.get(User, user.id)
    db.session.refresh(user)
    assert not user.is_active_user
    assert (user.display_name, user.email) == (members.ANONYMISED_NAME, None)
    assert "13800001234" not in user.username


def test_an_open_transfer_request_is_withdrawn(two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    transfer = make_transfer(member_id, two_chapters["b"])
    _anonymise(member_id)
    assert db.session.get(Transfer, transfer.id).status == "cancelled"


def test_the_anonymisation_is_audited_without_personal_data(moved_member):
    admin = _anonymise(moved_member)
    entry = db.session.execute(sa.select(AuditLog).where(
        AuditLog.action == "member_anonymised")).scalar_one()
    assert (entry.actor_id, entry.target_id, entry.ip) == (admin.id, str(moved_member),
                                                           "10.0.0.1")
    assert "赵六" not in str(entry.details)


def test_a_member_cannot_be_anonymised_twice(two_chapters):
    member_id = make_member_of(two_chapters["a"]).id
    _anonymise(member_id)
    with pytest.raises(Conflict):
        _anonymise(member_id)


def test_owners_of_other_people_are_left_alone(two_chapters):
    member_id = make_member_of(two_chapters["a"]).id
    other = make_member_of(two_chapters["a"], name="别人").id
    _anonymise(member_id)
    assert load_member(other).name == "别人"
    names = [o.name for o in _owners_everywhere()]
    assert "别人" in names
