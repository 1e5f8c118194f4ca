"""The member portal's pages: home, profile, consent, transfers, referrals — own data only."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner
from chapter.recruitment import service as recruitment
from chapter.recruitment.models import Application
from chapter.referrals.models import Lead
from clubplatform import crypto, dates
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_mobile
from hq.members.models import Member, MemberConsent, MemberIdentity, Transfer
from tests.chapter.portal.factories import make_applicant, make_portal_member, make_transfer
from tests.chapter.recruitment.factories import id_number
from tests.chapter.referrals.factories import friend_mobile, make_lead, vin
from tests.factories import make_chapter, make_member, make_user

ENGLISH = {"Accept-Language": "en"}
_rng = random.Random(11)


@pytest.fixture
def chapter(db):
    return make_chapter(name="望京车友会")


@pytest.fixture
def me(client, login_as, chapter):
    """A member of the chapter, logged in to the portal."""
    member = make_portal_member(chapter, id_number=id_number(date(1988, 8, 8)))
    login_as(member.user)
    return member


def _member(chapter, member_id) -> Member:
    db.session.expire_all()
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(Member).where(Member.id == member_id)).scalar_one()


def _owner(chapter, owner_id) -> Owner:
    db.session.expire_all()
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(Owner).where(Owner.id == owner_id)).scalar_one()


def _field_errors(resp, name) -> str:
    return " ".join(re.findall(rf'data-field-error="{name}">([^<]*)<', resp.get_data(as_text=True)))


# --- home --------------------------------------------------------------------------

def test_a_member_sees_their_number_chapter_tier_points_and_join_date(client, me, chapter):
    html = client.get("/portal/", headers=ENGLISH).get_data(as_text=True)
    card = html[html.index('data-testid="member-card"'):]
    joined = _member(chapter, me.member_id).joined_on
    assert all(text in card for text in (me.member_number, "望京车友会", "Silver", ">0<")), card
    assert f"{joined:%Y}" in card


def test_an_applicant_sees_their_rejected_application_with_the_reason(client, login_as, chapter):
    user = make_applicant(chapter)
    with chapter_scope(chapter.id):
        app = db.session.execute(sa.select(Application)).scalar_one()
        recruitment.reject_application(app, "资料不全", actor=make_user("chapter_manager",
                                                                       chapter=chapter))
        db.session.commit()
    login_as(user)
    html = client.get("/portal/", headers=ENGLISH).get_data(as_text=True)
    assert "Rejected" in html and "资料不全" in html


def test_chapter_staff_cannot_open_the_portal(client, login_as, chapter):
    login_as(make_user("chapter_staff", chapter=chapter))
    assert client.get("/portal/").status_code == 403


def test_the_portal_needs_a_login(client, db):
    assert client.get("/portal/").headers["Location"].startswith("/login")


# --- profile -----------------------------------------------------------------------

def test_the_profile_shows_the_id_number_masked_only(client, me, chapter):
    html = client.get("/portal/profile").get_data(as_text=True)
    masked = _member(chapter, me.member_id).id_number_masked
    full = crypto.decrypt(_member(chapter, me.member_id).id_number_enc)
    assert masked in html and full not in html


def test_a_member_corrects_their_contact_details(client, me, chapter):
    client.post("/portal/profile", data={
        "mobile": me.mobile, "email": "me@example.com", "address": "北京市朝阳区望京街1号",
        "postal_code": "100102", "occupation": "工程师", "hobbies": "自驾游, 摄影"})
    owner = _owner(chapter, me.owner_id)
    assert (owner.email, owner.address, owner.postal_code, owner.occupation, owner.hobbies) == \
        ("me@example.com", "北京市朝阳区望京街1号", "100102", "工程师", ["自驾游", "摄影"])


def test_the_members_email_and_hobbies_follow_the_correction(client, me, chapter):
    client.post("/portal/profile", data={"mobile": me.mobile, "email": "me@example.com",
                                         "hobbies": "钓鱼"})
    member = _member(chapter, me.member_id)
    assert (member.email, member.hobbies) == ("me@example.com", ["钓鱼"])


def test_a_bad_postal_code_is_shown_next_to_the_field(client, me):
    resp = client.post("/portal/profile", data={"mobile": me.mobile, "postal_code": "12ab"})
    assert resp.status_code == 422 and _field_errors(resp, "postal_code")


def _identity_digests(member_id):
    return set(db.session.execute(sa.select(MemberIdentity.digest).where(
        MemberIdentity.member_id == member_id, MemberIdentity.kind == "mobile")).scalars())


def test_changing_the_mobile_replaces_the_members_mobile_identity(client, me, chapter):
    new = make_mobile(_rng)
    client.post("/portal/profile", data={"mobile": new})
    db.session.expire_all()
    assert _identity_digests(me.member_id) == {crypto.blind_index(f"mobile:{new}")}


def test_changing_the_mobile_changes_the_member_the_owner_and_the_login(client, me, chapter):
    new = make_mobile(_rng)
    client.post("/portal/profile", data={"mobile": new})
    user = db.session.get(User, me.user.id)
    assert (_member(chapter, me.member_id).mobile, _owner(chapter, me.owner_id).mobile,
            user.username) == (new, new, new)


def test_a_mobile_of_another_member_is_refused_without_saying_whose(client, me, chapter):
    other = make_member(make_chapter(name="成都天府车友会"), name="李秘密")
    resp = client.post("/portal/profile", data={"mobile": other.mobile}, headers=ENGLISH)
    errors = _field_errors(resp, "mobile")
    assert resp.status_code == 422
    assert errors and "李秘密" not in errors and "成都" not in errors


def test_a_refused_mobile_change_keeps_the_old_identity(client, me, chapter):
    other = make_member(make_chapter())
    client.post("/portal/profile", data={"mobile": other.mobile})
    db.session.expire_all()
    assert _identity_digests(me.member_id) == {crypto.blind_index(f"mobile:{me.mobile}")}


# --- consent -----------------------------------------------------------------------

def test_a_member_gives_consent_per_channel(client, me, chapter):
    client.post("/portal/consents", data={"sms": "y", "portal": "y"})
    member = _member(chapter, me.member_id)
    assert (member.consent_sms, member.consent_email, member.consent_phone,
            member.consent_portal) == (True, False, False, True)


def test_each_consent_change_is_kept_with_its_channel_and_source(client, me):
    client.post("/portal/consents", data={"sms": "y"})
    client.post("/portal/consents", data={})
    rows = db.session.execute(sa.select(MemberConsent.channel, MemberConsent.granted,
                                        MemberConsent.source)
                              .where(MemberConsent.member_id == me.member_id)
                              .order_by(MemberConsent.id)).all()
    assert [tuple(r) for r in rows] == [("sms", True, "portal"), ("sms", False, "portal")]


def test_the_consent_page_shows_the_history(client, me):
    client.post("/portal/consents", data={"email": "y"})
    html = client.get("/portal/consents", headers=ENGLISH).get_data(as_text=True)
    assert "Allowed" in html[html.index('data-testid="consent-history"'):]


def test_an_applicant_opening_consent_is_sent_home(client, login_as, chapter):
    login_as(make_applicant(chapter))
    assert client.get("/portal/consents").headers["Location"].endswith("/portal/")


# --- transfers ---------------------------------------------------------------------

def test_a_member_requests_a_transfer_with_a_reason(client, me, chapter):
    target = make_chapter(name="上海浦东车友会")
    client.post("/portal/transfers", data={"to_chapter_id": str(target.id), "reason": "搬到上海"})
    rows = db.session.execute(sa.select(Transfer.to_chapter_id, Transfer.reason, Transfer.status)
                              .where(Transfer.member_id == me.member_id)).all()
    assert [tuple(r) for r in rows] == [(target.id, "搬到上海", "requested")]


def test_a_transfer_request_without_a_reason_is_refused(client, me):
    target = make_chapter()
    resp = client.post("/portal/transfers", data={"to_chapter_id": str(target.id), "reason": ""})
    assert resp.status_code == 422 and _field_errors(resp, "reason")


def test_a_member_sees_their_transfer_request_and_its_status(client, me, chapter):
    make_transfer(me, make_chapter(name="上海浦东车友会"))
    html = client.get("/portal/transfers", headers=ENGLISH).get_data(as_text=True)
    listed = html[html.index('data-testid="transfers"'):]
    assert "上海浦东车友会" in listed and "Waiting for the new chapter" in listed


def test_the_transfer_form_is_hidden_while_a_request_waits(client, me):
    make_transfer(me)
    html = client.get("/portal/transfers").get_data(as_text=True)
    assert 'data-testid="transfer-waiting"' in html and 'name="to_chapter_id"' not in html


def test_a_member_opens_their_own_transfer(client, me):
    transfer_id = make_transfer(me, status="rejected")
    assert client.get(f"/portal/transfers/{transfer_id}").status_code == 200


def test_another_members_transfer_is_not_found(client, me, chapter):
    other = make_portal_member(chapter)
    transfer_id = make_transfer(other)
    assert client.get(f"/portal/transfers/{transfer_id}").status_code == 404


def test_the_transfer_form_offers_open_chapters_but_not_ones_own(client, me, chapter):
    make_chapter(name="上海浦东车友会")
    html = client.get("/portal/transfers").get_data(as_text=True)
    form = html[:html.index("</select>")]
    assert "上海浦东车友会" in form and "望京车友会" not in form


# --- referrals ---------------------------------------------------------------------

def test_a_member_refers_a_friend_to_their_chapter(client, me, chapter):
    mobile = friend_mobile()
    client.post("/portal/referrals", data={"friend_name": "老同学", "friend_mobile": mobile,
                                           "model": "SUV"})
    with chapter_scope(chapter.id):
        lead = db.session.execute(sa.select(Lead).where(Lead.friend_mobile == mobile)).scalar_one()
        assert (lead.chapter_id, lead.referrer_member_id, lead.status) == \
            (chapter.id, me.member_id, "open")


def test_a_referral_with_a_bad_mobile_is_refused_next_to_the_field(client, me):
    resp = client.post("/portal/referrals", data={"friend_name": "老同学", "friend_mobile": "99"})
    assert resp.status_code == 422 and _field_errors(resp, "friend_mobile")


def test_a_member_sees_that_their_friend_bought(client, me, chapter):
    lead = make_lead(chapter, referrer=_member(chapter, me.member_id), friend_name="买车的朋友")
    with chapter_scope(chapter.id):
        from chapter.referrals import service as referrals

        referrals.close_as_purchase(referrals.get_lead(lead.id), vin(), dates.today())
        db.session.commit()
    html = client.get("/portal/referrals", headers=ENGLISH).get_data(as_text=True)
    row = html[html.index("买车的朋友"):]
    assert "Bought a car" in row[:row.index("</tr>")]


def test_a_member_does_not_see_other_members_referrals(client, me, chapter):
    make_lead(chapter, referrer=make_member(chapter), friend_name="别人的朋友")
    assert "别人的朋友" not in client.get("/portal/referrals").get_data(as_text=True)


def test_another_members_referral_is_not_found(client, me, chapter):
    lead = make_lead(chapter, referrer=make_member(chapter))
    assert client.get(f"/portal/referrals/{lead.id}").status_code == 404


def test_a_lead_of_another_chapter_is_not_found(client, me):
    lead = make_lead(make_chapter())
    assert client.get(f"/portal/referrals/{lead.id}").status_code == 404


def test_a_member_opens_their_own_referral(client, me, chapter):
    lead = make_lead(chapter, referrer=_member(chapter, me.member_id), friend_name="我的朋友")
    assert "我的朋友" in client.get(f"/portal/referrals/{lead.id}").get_data(as_text=True)
