"""Recruitment API: list, register, approve, reject; one member per person."""

from __future__ import annotations

import json

from tests.chapter.recruitment.factories import id_number, make_application, make_member_of
from tests.factories import make_owner, make_user


def test_the_list_is_paginated_with_the_chapters_applications_only(client, login_as, two_chapters):
    make_application(two_chapters["a"])
    make_application(two_chapters["a"])
    make_application(two_chapters["b"])
    login_as(two_chapters["staff_a"])
    resp = client.get("/api/v1/chapter/applications?page_size=1")
    assert resp.status_code == 200 and len(resp.json) == 1
    assert json.loads(resp.headers["X-Pagination"])["total"] == 2


def test_the_list_filters_by_status(client, login_as, two_chapters):
    make_application(two_chapters["a"])
    make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["staff_a"])
    resp = client.get("/api/v1/chapter/applications?status=approved")
    assert [a["status"] for a in resp.json] == ["approved"]


def test_counts_come_by_status_and_source(client, login_as, two_chapters):
    make_application(two_chapters["a"], source="online")
    login_as(two_chapters["staff_a"])
    counts = client.get("/api/v1/chapter/applications/counts").json
    assert (counts["total"], counts["by_status"]["pending"], counts["by_source"]["online"]) == (1, 1, 1)


def test_staff_register_an_application(client, login_as, two_chapters):
    owner = make_owner(two_chapters["a"])
    login_as(two_chapters["staff_a"])
    resp = client.post("/api/v1/chapter/applications",
                       json={"owner_id": owner.id, "source": "event", "note": "车友活动"})
    assert resp.status_code == 201
    assert (resp.json["status"], resp.json["source"], resp.json["owner_id"]) == (
        "pending", "event", owner.id)


def test_registering_another_chapters_owner_names_the_owner_field(client, login_as, two_chapters):
    owner = make_owner(two_chapters["b"])
    login_as(two_chapters["staff_a"])
    resp = client.post("/api/v1/chapter/applications", json={"owner_id": owner.id,
                                                             "source": "event"})
    assert resp.status_code == 422 and "owner_id" in resp.json["error"]["fields"]


def test_a_company_owner_cannot_apply(client, login_as, two_chapters):
    owner = make_owner(two_chapters["a"], kind="company", name="某某物流有限公司")
    login_as(two_chapters["staff_a"])
    resp = client.post("/api/v1/chapter/applications", json={"owner_id": owner.id,
                                                             "source": "showroom"})
    assert resp.status_code == 422 and "owner_id" in resp.json["error"]["fields"]


def test_an_owner_with_an_open_application_gets_409(client, login_as, two_chapters):
    owner = make_owner(two_chapters["a"])
    make_application(two_chapters["a"], owner)
    login_as(two_chapters["staff_a"])
    resp = client.post("/api/v1/chapter/applications", json={"owner_id": owner.id,
                                                             "source": "online"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "conflict"


def test_the_manager_approves_and_gets_the_member_with_its_number(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/api/v1/chapter/applications/{application.id}/approve",
                       json={"consents": {"email": True}})
    assert resp.status_code == 201
    assert resp.json["member_number"].startswith("M") and resp.json["consents"]["email"] is True


def test_staff_cannot_approve(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["staff_a"])
    resp = client.post(f"/api/v1/chapter/applications/{application.id}/approve", json={})
    assert resp.status_code == 403


def test_rejecting_without_a_reason_names_the_reason_field(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/api/v1/chapter/applications/{application.id}/reject", json={})
    assert resp.status_code == 422 and "reason" in resp.json["error"]["fields"]


def test_a_rejected_application_cannot_be_rejected_again(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    url = f"/api/v1/chapter/applications/{application.id}/reject"
    assert client.post(url, json={"reason": "资料不全"}).status_code == 200
    assert client.post(url, json={"reason": "资料不全"}).status_code == 409


def _secrets_of(chapter, member, *extra):
    return (chapter.name, chapter.dealer.code, member.member_number, *extra)


def test_the_same_mobile_in_b_gets_already_member_without_any_data_of_a(client, login_as,
                                                                        two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member = make_member_of(a, mobile="13912345678", name="张三")
    owner = make_owner(b, mobile="13912345678", name="张叁")
    login_as(two_chapters["staff_b"])
    resp = client.post("/api/v1/chapter/applications", json={"owner_id": owner.id,
                                                             "source": "online"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "already_member"
    for secret in _secrets_of(a, member, "张三", f'"member_id": {member.id}'):
        assert secret not in body


def test_the_same_id_number_in_b_gets_already_member_without_any_data_of_a(client, login_as,
                                                                           two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    person = id_number()
    member = make_member_of(a, mobile="13912345678", id_number=person, name="张三")
    owner = make_owner(b, mobile="13700000001", id_number=person, name="张叁")
    login_as(two_chapters["staff_b"])
    resp = client.post("/api/v1/chapter/applications", json={"owner_id": owner.id,
                                                             "source": "online"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "already_member"
    for secret in _secrets_of(a, member, "张三", "13912345678"):
        assert secret not in body


def test_approving_in_b_after_the_person_joined_a_gets_already_member(client, login_as,
                                                                      two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    waiting = make_application(b, mobile="13912345678")
    member = make_member_of(a, mobile="13912345678", name="张三")
    login_as(two_chapters["manager_b"])
    resp = client.post(f"/api/v1/chapter/applications/{waiting.id}/approve", json={})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "already_member"
    for secret in _secrets_of(a, member, "张三"):
        assert secret not in body
    assert client.get(f"/api/v1/chapter/applications/{waiting.id}").json["status"] == "pending"


def test_hq_users_cannot_use_the_chapter_api(client, login_as, two_chapters):
    login_as(make_user("hq_admin"))
    assert client.get("/api/v1/chapter/applications").status_code == 403
