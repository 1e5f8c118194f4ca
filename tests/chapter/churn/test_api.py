"""Churn API: the chapter's matrix, owners with RFM, trend; HQ's matrices and settings."""

from __future__ import annotations

from datetime import date

from clubplatform import dates
from tests.chapter.churn.factories import owner_with_visits
from tests.factories import make_user


def _cells(body):
    return {c["loyalty"] + c["value"]: c["owners"] for c in body["cells"]}


def test_the_matrix_counts_the_chapters_owners(client, login_as, two_chapters):
    owner_with_visits(two_chapters["a"], [(date(2023, 1, 1), 100)])
    owner_with_visits(two_chapters["b"], [(date(2023, 1, 1), 100)])
    body = login_as(two_chapters["staff_a"]).get("/api/v1/chapter/churn/matrix").get_json()
    assert body["total"] == 1 and _cells(body)["CS"] == 1
    assert body["settings"]["lost_months"] == 12
    assert {c["action"] for c in body["cells"] if c["loyalty"] == "C"} and len(body["cells"]) == 9


def test_owners_carry_segment_loyalty_and_rfm_paginated(client, login_as, two_chapters):
    for y in (100, 200, 300):
        owner_with_visits(two_chapters["a"], [(dates.today().replace(day=1), y)])
    resp = login_as(two_chapters["staff_a"]).get(
        "/api/v1/chapter/churn/owners", query_string={"page_size": 2})
    assert resp.status_code == 200
    body = resp.get_json()
    assert len(body) == 2 and body[0]["spend_fen"] == 30000
    assert {"r", "f", "m", "value", "loyalty", "open_complaint", "elsewhere"} <= set(body[0])
    assert '"total": 3' in resp.headers["X-Pagination"]


def test_an_unknown_cell_is_refused_naming_the_field(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get("/api/v1/chapter/churn/owners",
                                                 query_string={"loyalty": "Z"})
    assert resp.status_code == 422
    assert "loyalty" in resp.get_json()["error"]["fields"]


def test_the_trend_has_one_point_per_month(client, login_as, two_chapters):
    body = login_as(two_chapters["staff_a"]).get(
        "/api/v1/chapter/churn/trend", query_string={"months": 6}).get_json()
    assert len(body) == 6 and body[-1]["owners"] == 0


def test_hq_gets_this_months_matrix_of_a_regions_chapters(client, login_as, two_chapters):
    owner_with_visits(two_chapters["a"], [(date(2023, 1, 1), 100)])
    this_month = dates.today().strftime("%Y-%m")
    body = login_as(make_user("hq_analyst")).get(
        "/api/v1/hq/churn/matrix", query_string={
            "month": this_month, "region_id": two_chapters["a"].dealer.region_id}).get_json()
    assert body["source"] == "live" and body["total"]["total"] == 1
    assert [r["key"] for r in body["rows"]] == [two_chapters["a"].id]


def test_chapter_users_cannot_read_hq_churn(client, login_as, two_chapters):
    assert login_as(two_chapters["manager_a"]).get("/api/v1/hq/churn/matrix").status_code == 403


def test_hq_admin_patches_settings_and_a_bad_value_names_the_field(client, login_as):
    hq = login_as(make_user("hq_admin"))
    assert hq.patch("/api/v1/hq/churn/settings", json={"lost_months": 18}).get_json()[
        "lost_months"] == 18
    resp = hq.patch("/api/v1/hq/churn/settings", json={"service_interval_months": 30})
    assert resp.status_code == 422
    assert "service_interval_months" in resp.get_json()["error"]["fields"]


def test_an_hq_analyst_cannot_change_settings(client, login_as):
    resp = login_as(make_user("hq_analyst")).patch("/api/v1/hq/churn/settings",
                                                   json={"lost_months": 18})
    assert resp.status_code == 403


def test_another_chapter_sees_none_of_the_owners(client, login_as, two_chapters):
    owner_with_visits(two_chapters["a"], [(date(2023, 1, 1), 100)])
    b = login_as(two_chapters["staff_b"])
    assert b.get("/api/v1/chapter/churn/owners").get_json() == []
    assert b.get("/api/v1/chapter/churn/matrix").get_json()["total"] == 0
    csv = b.get("/chapter/churn/owners/export").data.decode("utf-8-sig").strip().splitlines()
    assert len(csv) == 1
