"""The member portal API: the member's own card, profile, consent, referrals and transfers."""

from __future__ import annotations

import random
from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform import crypto
from clubplatform.auth import service as auth
from clubplatform.extensions import db
from clubplatform.validators import make_mobile
from hq.members.models import MemberIdentity
from tests.chapter.portal.factories import make_applicant, make_portal_member, make_transfer
from tests.chapter.recruitment.factories import id_number
from tests.chapter.referrals.factories import friend_mobile, make_lead
from tests.factories import make_chapter, make_member, make_user

URL = "/api/v1/portal"
_rng = random.Random(12)


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


@pytest.fixture
def chapter(db):
    return make_chapter(name="望京车友会")


@pytest.fixture
def me(chapter):
    return make_portal_member(chapter, id_number=id_number(date(1991, 1, 1)))


@pytest.fixture
def auth_me(bearer, me):
    return bearer(me.user)


def test_me_shows_the_members_card(client, me, auth_me, chapter):
    body = client.get(f"{URL}/me", headers=auth_me).get_json()
    assert (body["is_member"], body["member"]["member_number"], body["member"]["tier"],
            body["member"]["points_balance"], body["chapter"]["name"]) == \
        (True, me.member_number, "silver", 0, "望京车友会")


def test_me_shows_an_applicants_pending_application(client, bearer, chapter):
    body = client.get(f"{URL}/me", headers=bearer(make_applicant(chapter))).get_json()
    assert (body["is_member"], body["application"]["status"]) == (False, "pending")


def test_the_profile_carries_the_id_number_masked(client, me, auth_me):
    body = client.get(f"{URL}/profile", headers=auth_me).get_json()
    assert "*" * 10 in body["id_number_masked"] and "id_number" not in body


def test_patching_the_profile_changes_only_the_fields_given(client, auth_me):
    body = client.patch(f"{URL}/profile", headers=auth_me,
                        json={"occupation": "教师", "hobbies": ["摄影"]}).get_json()
    assert (body["occupation"], body["hobbies"], body["email"]) == ("教师", ["摄影"], None)


def test_patching_the_mobile_keeps_the_identity_in_step(client, me, auth_me):
    new = make_mobile(_rng)
    client.patch(f"{URL}/profile", headers=auth_me, json={"mobile": new})
    db.session.expire_all()
    digests = set(db.session.execute(sa.select(MemberIdentity.digest).where(
        MemberIdentity.member_id == me.member_id, MemberIdentity.kind == "mobile")).scalars())
    assert digests == {crypto.blind_index(f"mobile:{new}")}


def test_a_mobile_in_use_answers_409_without_saying_whose(client, auth_me):
    other = make_member(make_chapter(name="成都天府车友会"), name="李秘密")
    resp = client.patch(f"{URL}/profile", headers=auth_me, json={"mobile": other.mobile})
    error = resp.get_json()["error"]
    assert (resp.status_code, list(error["fields"])) == (409, ["mobile"])
    assert "李秘密" not in str(error) and "成都" not in str(error)


def test_consent_is_set_per_channel_with_history(client, auth_me):
    body = client.put(f"{URL}/consents", headers=auth_me, json={"email": True}).get_json()
    assert body["current"] == {"sms": False, "email": True, "phone": False, "portal": False}
    assert [(h["channel"], h["granted"], h["source"]) for h in body["history"]] == \
        [("email", True, "portal")]


def test_an_unknown_channel_is_refused(client, auth_me):
    assert client.put(f"{URL}/consents", headers=auth_me, json={"fax": True}).status_code == 422


def test_an_applicant_cannot_set_consent_yet(client, bearer, chapter):
    resp = client.put(f"{URL}/consents", headers=bearer(make_applicant(chapter)),
                      json={"sms": True})
    assert resp.status_code == 403


def test_a_member_refers_a_friend_through_the_api(client, me, auth_me):
    resp = client.post(f"{URL}/referrals", headers=auth_me,
                       json={"friend_name": "老同学", "friend_mobile": friend_mobile()})
    assert (resp.status_code, resp.get_json()["purchased"]) == (201, False)


def test_the_referrals_list_holds_only_the_members_own(client, me, auth_me, chapter):
    client.post(f"{URL}/referrals", headers=auth_me,
                json={"friend_name": "我的朋友", "friend_mobile": friend_mobile()})
    make_lead(chapter, referrer=make_member(chapter), friend_name="别人的朋友")
    names = [r["friend_name"] for r in client.get(f"{URL}/referrals", headers=auth_me).get_json()]
    assert names == ["我的朋友"]


def test_another_members_referral_answers_404(client, auth_me, chapter):
    lead = make_lead(chapter, referrer=make_member(chapter))
    assert client.get(f"{URL}/referrals/{lead.id}", headers=auth_me).status_code == 404


def test_a_member_of_chapter_a_cannot_see_chapter_bs_lead(client, auth_me):
    other = make_chapter()
    lead = make_lead(other, referrer=make_member(other))
    assert client.get(f"{URL}/referrals/{lead.id}", headers=auth_me).status_code == 404


def test_a_member_requests_a_transfer_through_the_api(client, me, auth_me):
    target = make_chapter()
    resp = client.post(f"{URL}/transfers", headers=auth_me,
                       json={"to_chapter_id": target.id, "reason": "换了经销商"})
    body = resp.get_json()
    assert (resp.status_code, body["from_chapter_id"], body["to_chapter_id"], body["status"]) == \
        (201, me.chapter_id, target.id, "requested")


def test_a_second_open_transfer_request_answers_409(client, me, auth_me):
    make_transfer(me)
    resp = client.post(f"{URL}/transfers", headers=auth_me,
                       json={"to_chapter_id": make_chapter().id, "reason": "又搬家了"})
    assert resp.status_code == 409


def test_the_members_transfers_are_listed_with_their_status(client, me, auth_me):
    make_transfer(me, status="approved")
    assert [t["status"] for t in client.get(f"{URL}/transfers", headers=auth_me).get_json()] \
        == ["approved"]


def test_another_members_transfer_answers_404(client, auth_me, chapter):
    transfer_id = make_transfer(make_portal_member(chapter))
    assert client.get(f"{URL}/transfers/{transfer_id}", headers=auth_me).status_code == 404


def test_a_transfer_to_a_closed_chapter_is_refused(client, auth_me):
    closed = make_chapter()
    closed.closed_on = date(2023, 1, 1)
    db.session.commit()
    resp = client.post(f"{URL}/transfers", headers=auth_me,
                       json={"to_chapter_id": closed.id, "reason": "搬家"})
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["to_chapter_id"])


@pytest.mark.parametrize("path", ["/me", "/profile", "/consents", "/referrals", "/transfers"])
def test_chapter_staff_get_403_from_the_portal_api(client, bearer, chapter, path):
    staff = make_user("chapter_staff", chapter=chapter)
    assert client.get(f"{URL}{path}", headers=bearer(staff)).status_code == 403
