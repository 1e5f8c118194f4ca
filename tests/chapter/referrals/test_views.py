"""The chapter's lead pages: list, record, follow up, lose, close; other chapters get 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.referrals.models import Lead, LeadNote
from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.portal.factories import make_portal_member
from tests.chapter.referrals.factories import friend_mobile, make_lead, vin
from tests.factories import make_member

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def staff_a(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    return two_chapters["staff_a"]


def _lead(chapter, lead_id) -> Lead:
    with chapter_scope(chapter.id):
        db.session.expire_all()
        return db.session.execute(sa.select(Lead).where(Lead.id == lead_id)).scalar_one()


def test_the_leads_page_lists_due_follow_ups_first(client, staff_a, two_chapters):
    a, today = two_chapters["a"], dates.today()
    make_lead(a, friend_name="以后再说", next_follow_up_on=today + timedelta(days=5))
    make_lead(a, friend_name="今天该联系", next_follow_up_on=today - timedelta(days=1))
    html = client.get("/chapter/leads/").get_data(as_text=True)
    assert html.index("今天该联系") < html.index("以后再说")


def test_the_leads_page_shows_referral_purchases_per_month(client, staff_a, two_chapters):
    a = two_chapters["a"]
    lead = make_lead(a)
    client.post(f"/chapter/leads/{lead.id}/purchase",
                data={"vin": vin(), "purchased_on": dates.today().isoformat()})
    html = client.get("/chapter/leads/").get_data(as_text=True)
    table = html[html.index('data-testid="purchases-by-month"'):]
    row = re.search(rf"{dates.today():%Y-%m}</td>\s*<td[^>]*>(\d+)</td>", table)
    assert row.group(1) == "1"


def test_the_leads_page_does_not_show_another_chapters_leads(client, staff_a, two_chapters):
    make_lead(two_chapters["b"], friend_name="别的分会的朋友")
    assert "别的分会的朋友" not in client.get("/chapter/leads/").get_data(as_text=True)


def test_staff_record_a_walk_in_lead(client, staff_a, two_chapters):
    resp = client.post("/chapter/leads/new", data={
        "friend_name": "李四", "friend_mobile": friend_mobile(), "model": "轿车", "grade": "A"})
    lead_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    lead = _lead(two_chapters["a"], lead_id)
    assert (lead.friend_name, lead.grade, lead.referrer_member_id) == ("李四", "A", None)


def test_staff_record_a_members_referral_by_member_number(client, staff_a, two_chapters):
    member = make_member(two_chapters["a"])
    resp = client.post("/chapter/leads/new", data={
        "friend_name": "王五", "friend_mobile": friend_mobile(), "grade": "B",
        "referrer_member_number": member.member_number})
    lead = _lead(two_chapters["a"], int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert lead.referrer_member_id == member.id


def test_a_bad_mobile_is_shown_next_to_the_field(client, staff_a):
    resp = client.post("/chapter/leads/new", data={"friend_name": "李四", "friend_mobile": "123",
                                                   "grade": "C"}, headers=ENGLISH)
    assert resp.status_code == 422
    assert 'data-field-error="friend_mobile"' in resp.get_data(as_text=True)


def test_another_chapters_member_number_is_refused_as_referrer(client, staff_a, two_chapters):
    other = make_member(two_chapters["b"])
    resp = client.post("/chapter/leads/new", data={
        "friend_name": "王五", "friend_mobile": friend_mobile(), "grade": "B",
        "referrer_member_number": other.member_number})
    assert resp.status_code == 422


def test_a_follow_up_note_appears_on_the_timeline(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    client.post(f"/chapter/leads/{lead.id}/notes", data={"note": "约了周六试驾", "grade": "H"})
    html = client.get(f"/chapter/leads/{lead.id}").get_data(as_text=True)
    assert "约了周六试驾" in html[html.index('data-testid="timeline"'):]


def test_regrading_on_the_page_moves_the_next_follow_up(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"], grade="C")
    client.post(f"/chapter/leads/{lead.id}/notes", data={"note": "很有兴趣", "grade": "H"})
    assert _lead(two_chapters["a"], lead.id).next_follow_up_on == \
        dates.today() + timedelta(days=7)


def test_staff_mark_a_lead_lost_with_a_reason(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    client.post(f"/chapter/leads/{lead.id}/lost", data={"reason": "已购竞品"})
    assert _lead(two_chapters["a"], lead.id).lost_reason == "已购竞品"


def test_marking_lost_without_a_reason_answers_422(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    assert client.post(f"/chapter/leads/{lead.id}/lost", data={"reason": ""}).status_code == 422


def test_staff_close_a_lead_as_a_referral_purchase(client, staff_a, two_chapters):
    lead, the_vin = make_lead(two_chapters["a"]), vin()
    client.post(f"/chapter/leads/{lead.id}/purchase",
                data={"vin": the_vin, "purchased_on": dates.today().isoformat()})
    assert _lead(two_chapters["a"], lead.id).purchased_vin == the_vin


def test_a_bad_vin_on_the_page_is_shown_next_to_the_field(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    resp = client.post(f"/chapter/leads/{lead.id}/purchase",
                       data={"vin": "LVS12345678901234", "purchased_on": dates.today().isoformat()},
                       headers=ENGLISH)
    assert resp.status_code == 422
    assert 'data-field-error="vin"' in resp.get_data(as_text=True)


def test_staff_of_another_chapter_get_404_for_the_lead(client, login_as, two_chapters):
    lead = make_lead(two_chapters["a"])
    login_as(two_chapters["staff_b"])
    assert client.get(f"/chapter/leads/{lead.id}").status_code == 404


def test_staff_of_another_chapter_cannot_add_a_note(client, login_as, two_chapters):
    lead = make_lead(two_chapters["a"])
    login_as(two_chapters["manager_b"])
    client.post(f"/chapter/leads/{lead.id}/notes", data={"note": "偷看"})
    with chapter_scope(two_chapters["a"].id):
        assert db.session.execute(sa.select(sa.func.count()).select_from(LeadNote)).scalar() == 0


def test_a_member_cannot_open_the_chapters_leads(client, login_as, two_chapters):
    login_as(make_portal_member(two_chapters["a"]).user)
    assert client.get("/chapter/leads/").status_code == 403
