"""The points API: balance, entries, award, adjust, redeem, campaigns, the portal's points."""

from __future__ import annotations

import pytest

from clubplatform.auth import service as auth
from tests.chapter.points.factories import entries_of, make_campaign
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member
from tests.hq.points.factories import award


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


@pytest.fixture
def member_a(two_chapters):
    return make_member(two_chapters["a"], by=two_chapters["manager_a"])


def _url(member, tail=""):
    return f"/api/v1/members/{member.id}/points{tail}"


def test_the_balance_endpoint_gives_balance_tier_and_next_expiry(client, bearer, two_chapters,
                                                                 member_a):
    award(member_a.id, two_chapters["a"].id, 80)
    body = client.get(_url(member_a), headers=bearer(two_chapters["staff_a"])).get_json()
    assert body["balance"] == 80 and body["tier"] == "silver"
    assert body["next_expiry_points"] == 80 and body["next_expiry_on"]


def test_entries_are_paginated_newest_first(client, bearer, two_chapters, member_a):
    for points in (1, 2, 3):
        award(member_a.id, two_chapters["a"].id, points)
    resp = client.get(_url(member_a, "/entries?page_size=2"), headers=bearer(two_chapters["staff_a"]))
    assert [e["points"] for e in resp.get_json()] == [3, 2]
    assert "X-Pagination" in resp.headers


def test_an_award_retried_with_its_key_writes_once(client, bearer, two_chapters, member_a):
    headers = bearer(two_chapters["manager_a"])
    bodies = [client.post(_url(member_a, "/earn"), headers=headers, json={
        "points": 30, "note": "老带新活动", "idempotency_key": "k-1"}).get_json() for _ in range(2)]
    assert [b["created"] for b in bodies] == [True, False]
    assert bodies[1]["balance"] == 30
    assert len(entries_of(member_a.id)) == 1


def test_an_award_without_a_reason_is_refused(client, bearer, two_chapters, member_a):
    resp = client.post(_url(member_a, "/earn"), headers=bearer(two_chapters["manager_a"]),
                       json={"points": 30})
    assert resp.status_code == 422
    assert "note" in resp.get_json()["error"]["fields"]


def test_staff_cannot_adjust(client, bearer, two_chapters, member_a):
    resp = client.post(_url(member_a, "/adjust"), headers=bearer(two_chapters["staff_a"]),
                       json={"points": 5, "note": "x"})
    assert resp.status_code == 403


def test_a_manager_adjusts_with_a_reason(client, bearer, two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 50)
    resp = client.post(_url(member_a, "/adjust"), headers=bearer(two_chapters["manager_a"]),
                       json={"points": -20, "note": "纠正"})
    assert resp.status_code == 201
    assert resp.get_json()["balance"] == 30


def test_redeeming_beyond_the_balance_is_a_conflict(client, bearer, two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 50)
    resp = client.post(_url(member_a, "/redeem"), headers=bearer(two_chapters["staff_a"]),
                       json={"points": 51, "reason": "dealer_service"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "insufficient_points"
    assert len(entries_of(member_a.id)) == 1


def test_staff_redeem_at_the_dealer(client, bearer, two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 50)
    resp = client.post(_url(member_a, "/redeem"), headers=bearer(two_chapters["staff_a"]),
                       json={"points": 50, "reason": "dealer_parts", "note": "WO123"})
    assert resp.status_code == 201
    assert resp.get_json()["entry"]["venue"] == "dealer"


@pytest.mark.parametrize("tail,method", [("", "get"), ("/entries", "get"), ("/earn", "post"),
                                         ("/adjust", "post"), ("/redeem", "post")])
def test_another_chapters_member_is_not_found(client, bearer, two_chapters, member_a, tail,
                                               method):
    resp = getattr(client, method)(_url(member_a, tail), headers=bearer(two_chapters["manager_b"]),
                                   json={"points": 5, "note": "x", "reason": "dealer_service"}
                                   if method == "post" else None)
    assert resp.status_code == 404


def test_a_manager_manages_campaigns(client, bearer, two_chapters):
    headers = bearer(two_chapters["manager_a"])
    created = client.post("/api/v1/chapter/campaigns", headers=headers, json={
        "name": "钣喷季", "points_per_yuan": 3, "visit_types": ["body_paint"],
        "starts_on": "2025-03-01", "ends_on": "2025-04-30"})
    assert created.status_code == 201
    cid = created.get_json()["id"]
    assert client.patch(f"/api/v1/chapter/campaigns/{cid}", headers=headers,
                        json={"points_per_yuan": 4}).get_json()["points_per_yuan"] == 4
    assert client.delete(f"/api/v1/chapter/campaigns/{cid}",
                         headers=headers).get_json()["active"] is False
    listed = client.get("/api/v1/chapter/campaigns?active=false", headers=headers).get_json()
    assert [c["id"] for c in listed] == [cid]


def test_another_chapters_campaign_is_not_found(client, bearer, two_chapters):
    campaign = make_campaign(two_chapters["a"])
    resp = client.get(f"/api/v1/chapter/campaigns/{campaign.id}",
                      headers=bearer(two_chapters["manager_b"]))
    assert resp.status_code == 404


def test_the_portal_api_gives_the_members_own_points(client, bearer, two_chapters):
    pm = make_portal_member(two_chapters["a"])
    award(pm.member_id, pm.chapter_id, 70)
    body = client.get("/api/v1/portal/points", headers=bearer(pm.user)).get_json()
    assert body["balance"] == 70
    assert [e["points"] for e in body["recent"]] == [70]


def test_the_points_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/members/{member_id}/points", "/api/v1/members/{member_id}/points/entries",
                 "/api/v1/members/{member_id}/points/earn", "/api/v1/chapter/campaigns",
                 "/api/v1/portal/points"):
        assert path in paths
