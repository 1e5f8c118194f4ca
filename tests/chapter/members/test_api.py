"""Members API: list with filters, a member with history, status changes."""

from __future__ import annotations

import json

from clubplatform import dates
from tests.chapter.recruitment.factories import make_member_of


def test_the_list_holds_the_chapters_members_paginated(client, login_as, two_chapters):
    make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    make_member_of(two_chapters["b"], by=two_chapters["manager_b"])
    login_as(two_chapters["staff_a"])
    resp = client.get("/api/v1/chapter/members?page_size=1")
    assert resp.status_code == 200 and len(resp.json) == 1
    assert json.loads(resp.headers["X-Pagination"])["total"] == 2


def test_the_list_searches_by_name(client, login_as, two_chapters):
    make_member_of(two_chapters["a"], name="欧阳锋", by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], name="黄药师", by=two_chapters["manager_a"])
    login_as(two_chapters["staff_a"])
    assert [m["name"] for m in client.get("/api/v1/chapter/members?q=欧阳").json] == ["欧阳锋"]


def test_a_malformed_joined_month_is_refused(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    resp = client.get("/api/v1/chapter/members?joined_month=May")
    assert resp.status_code == 422 and "joined_month" in resp.json["error"]["fields"]


def test_a_member_comes_with_status_history_consents_and_application(client, login_as,
                                                                     two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"],
                            consents={"phone": True})
    login_as(two_chapters["staff_a"])
    body = client.get(f"/api/v1/chapter/members/{member.id}").json
    assert body["member"]["member_number"] == member.member_number
    assert [p["status"] for p in body["status_periods"]] == ["active"]
    assert [(c["channel"], c["granted"]) for c in body["consent_history"]] == [("phone", True)]
    assert body["application"]["source"] == "showroom"


def test_the_manager_suspends_a_member(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/api/v1/chapter/members/{member.id}/status",
                       json={"status": "suspended", "on": dates.today().isoformat(),
                             "reason": "暂停"})
    assert resp.status_code == 200 and resp.json["status"] == "suspended"


def test_leaving_without_a_reason_names_the_reason(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/api/v1/chapter/members/{member.id}/status", json={"status": "left"})
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]


def test_a_status_change_without_a_status_names_the_status(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/api/v1/chapter/members/{member.id}/status", json={})
    assert resp.status_code == 422 and "status" in resp.json["error"]["fields"]


def test_staff_cannot_change_a_status(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["staff_a"])
    resp = client.post(f"/api/v1/chapter/members/{member.id}/status",
                       json={"status": "suspended"})
    assert resp.status_code == 403


def test_another_chapters_member_is_not_found(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["staff_b"])
    assert client.get(f"/api/v1/chapter/members/{member.id}").status_code == 404
