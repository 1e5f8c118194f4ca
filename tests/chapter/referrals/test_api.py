"""The leads API for chapter staff: list, record, re-grade, notes, lost, purchase, figures."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clubplatform import dates
from clubplatform.auth import service as auth
from tests.chapter.portal.factories import make_portal_member
from tests.chapter.referrals.factories import friend_mobile, make_lead, vin
from tests.factories import make_member

URL = "/api/v1/chapter/leads"


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


@pytest.fixture
def staff_a(bearer, two_chapters):
    return bearer(two_chapters["staff_a"])


def test_staff_list_their_chapters_leads_with_a_pagination_header(client, staff_a, two_chapters):
    make_lead(two_chapters["a"])
    make_lead(two_chapters["b"])
    resp = client.get(URL, headers=staff_a)
    assert (len(resp.get_json()), json.loads(resp.headers["X-Pagination"])["total"]) == (1, 1)


def test_the_list_is_filtered_by_status(client, staff_a, two_chapters):
    make_lead(two_chapters["a"])
    assert client.get(f"{URL}?status=lost", headers=staff_a).get_json() == []


def test_staff_record_a_referral_through_the_api(client, staff_a, two_chapters):
    member = make_member(two_chapters["a"])
    resp = client.post(URL, headers=staff_a, json={
        "friend_name": "赵六", "friend_mobile": friend_mobile(), "grade": "H",
        "referrer_member_number": member.member_number})
    body = resp.get_json()
    assert (resp.status_code, body["referrer_member_id"], body["next_follow_up_on"]) == \
        (201, member.id, (dates.today() + timedelta(days=7)).isoformat())


def test_a_bad_mobile_answers_422_naming_the_field(client, staff_a):
    resp = client.post(URL, headers=staff_a, json={"friend_name": "赵六", "friend_mobile": "1"})
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["friend_mobile"])


def test_regrading_through_the_api_moves_the_next_follow_up(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"], grade="C")
    body = client.patch(f"{URL}/{lead.id}", headers=staff_a, json={"grade": "A"}).get_json()
    assert body["next_follow_up_on"] == (dates.today() + timedelta(days=15)).isoformat()


def test_a_follow_up_note_is_added_to_the_timeline(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    client.post(f"{URL}/{lead.id}/notes", headers=staff_a, json={"note": "回访了"})
    notes = client.get(f"{URL}/{lead.id}/notes", headers=staff_a).get_json()
    assert [n["note"] for n in notes] == ["回访了"]


def test_a_lead_is_marked_lost_through_the_api(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    body = client.post(f"{URL}/{lead.id}/lost", headers=staff_a, json={"reason": "没预算"}).get_json()
    assert (body["status"], body["lost_reason"]) == ("lost", "没预算")


def test_closing_a_purchase_twice_through_the_api_keeps_the_first(client, staff_a, two_chapters):
    lead, first = make_lead(two_chapters["a"]), vin()
    today = dates.today().isoformat()
    client.post(f"{URL}/{lead.id}/purchase", headers=staff_a,
                json={"vin": first, "purchased_on": today})
    again = client.post(f"{URL}/{lead.id}/purchase", headers=staff_a,
                        json={"vin": vin(), "purchased_on": today})
    assert (again.status_code, again.get_json()["purchased_vin"]) == (200, first)


def test_a_bad_vin_answers_422_naming_the_vin(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    resp = client.post(f"{URL}/{lead.id}/purchase", headers=staff_a,
                       json={"vin": "ABC", "purchased_on": dates.today().isoformat()})
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["vin"])


def test_purchases_per_month_through_the_api(client, staff_a, two_chapters):
    lead = make_lead(two_chapters["a"])
    client.post(f"{URL}/{lead.id}/purchase", headers=staff_a,
                json={"vin": vin(), "purchased_on": dates.today().isoformat()})
    months = client.get(f"{URL}/purchases-by-month?months=2", headers=staff_a).get_json()
    assert months == [
        {"month": f"{(dates.today().replace(day=1) - timedelta(days=1)):%Y-%m}", "count": 0},
        {"month": f"{dates.today():%Y-%m}", "count": 1},
    ]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", ""), ("PATCH", ""), ("GET", "/notes"), ("POST", "/notes"), ("POST", "/lost"),
    ("POST", "/purchase"),
])
def test_staff_of_another_chapter_get_404_for_the_lead(client, bearer, two_chapters, method,
                                                        path):
    lead = make_lead(two_chapters["a"])
    resp = client.open(f"{URL}/{lead.id}{path}", method=method,
                       headers=bearer(two_chapters["staff_b"]), json={})
    assert resp.status_code == 404


def test_a_member_gets_403_from_the_chapter_leads_api(client, bearer, two_chapters):
    member = make_portal_member(two_chapters["a"])
    assert client.get(URL, headers=bearer(member.user)).status_code == 403


def test_the_leads_api_is_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/chapter/leads", "/api/v1/chapter/leads/{lead_id}/purchase"} <= set(paths)
