"""Application pages: list, register for an owner found by search, decide."""

from __future__ import annotations

import sqlalchemy as sa

from chapter.recruitment import service
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members.models import Member
from tests.chapter.recruitment.factories import id_number, make_application, make_member_of
from tests.factories import make_owner


def _page(client, login_as, user, url, **kw):
    login_as(user)
    return client.get(url, **kw)


def test_the_list_shows_the_chapters_applications_with_counts_by_status(client, login_as, two_chapters):
    a = two_chapters["a"]
    make_application(a, name="李雷")
    make_application(two_chapters["b"], name="韩梅梅")
    resp = _page(client, login_as, two_chapters["staff_a"], "/chapter/applications/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "李雷" in html and "韩梅梅" not in html
    assert 'data-status-count="pending">' in html and "(1)" in html


def test_the_list_filters_by_status(client, login_as, two_chapters):
    a = two_chapters["a"]
    make_application(a, name="李雷")
    make_member_of(a, name="王芳")
    resp = _page(client, login_as, two_chapters["staff_a"], "/chapter/applications/?status=approved")
    html = resp.get_data(as_text=True)
    assert "王芳" in html and "李雷" not in html


def test_the_list_filters_by_source(client, login_as, two_chapters):
    a = two_chapters["a"]
    make_application(a, name="李雷", source="event")
    make_application(a, name="王芳", source="online")
    resp = _page(client, login_as, two_chapters["staff_a"], "/chapter/applications/?source=online")
    html = resp.get_data(as_text=True)
    assert "王芳" in html and "李雷" not in html


def test_the_register_page_finds_owners_by_search(client, login_as, two_chapters):
    make_owner(two_chapters["a"], name="赵敏", mobile="13912345678")
    resp = _page(client, login_as, two_chapters["staff_a"],
                 "/chapter/applications/new?q=13912345678")
    assert resp.status_code == 200 and "赵敏" in resp.get_data(as_text=True)


def test_staff_register_an_application_for_the_chosen_owner(client, login_as, two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    login_as(two_chapters["staff_a"])
    resp = client.post("/chapter/applications/new",
                       data={"owner_id": owner.id, "source": "service_visit", "note": "保养时登记"})
    assert resp.status_code == 302
    with chapter_scope(a.id):
        stored = db.session.execute(service.application_query(owner_id=owner.id)).scalar_one()
    assert (stored.source, stored.note, stored.created_by_id) == (
        "service_visit", "保养时登记", two_chapters["staff_a"].id)


def test_registering_without_a_source_answers_422(client, login_as, two_chapters):
    owner = make_owner(two_chapters["a"])
    login_as(two_chapters["staff_a"])
    resp = client.post("/chapter/applications/new", data={"owner_id": owner.id, "source": ""})
    assert resp.status_code == 422


def test_registering_an_owner_with_an_open_application_shows_why(client, login_as, two_chapters):
    a = two_chapters["a"]
    owner = make_owner(a)
    make_application(a, owner)
    login_as(two_chapters["staff_a"])
    resp = client.post("/chapter/applications/new", data={"owner_id": owner.id, "source": "event"},
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert "open application" in resp.get_data(as_text=True)


def test_registering_a_member_of_another_chapter_offers_a_transfer_and_hides_that_chapter(
        client, login_as, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member = make_member_of(a, mobile="13912345678", name="张三")
    owner = make_owner(b, mobile="13912345678", name="张叁")
    login_as(two_chapters["staff_b"])
    resp = client.post("/chapter/applications/new", data={"owner_id": owner.id, "source": "online"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "data-already-member" in html
    assert "data-transfer-offer" in html
    for secret in (a.name, a.dealer.code, member.member_number, "张三"):
        assert secret not in html


def test_the_detail_page_shows_the_application(client, login_as, two_chapters):
    application = make_application(two_chapters["a"], name="李雷", source="referral")
    resp = _page(client, login_as, two_chapters["staff_a"],
                 f"/chapter/applications/{application.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "李雷" in html and 'data-application-status="pending"' in html


def test_the_manager_approves_and_lands_on_the_new_member(client, login_as, two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/applications/{application.id}/approve",
                       data={"consent_sms": "y"})
    with chapter_scope(a.id):
        member = db.session.execute(sa.select(Member)).scalar_one()
        assert member.consent_sms and not member.consent_email
    assert resp.status_code == 302 and resp.location.endswith(f"/chapter/members/{member.id}")


def test_staff_cannot_approve(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["staff_a"])
    assert client.post(f"/chapter/applications/{application.id}/approve").status_code == 403


def test_staff_cannot_reject(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["staff_a"])
    resp = client.post(f"/chapter/applications/{application.id}/reject",
                       data={"reject-reason": "不符合条件"})
    assert resp.status_code == 403


def test_rejecting_without_a_reason_answers_422_and_asks_for_one(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/applications/{application.id}/reject",
                       data={"reject-reason": ""})
    assert resp.status_code == 422
    assert 'data-field-error="reject-reason"' in resp.get_data(as_text=True)


def test_the_manager_rejects_with_a_reason(client, login_as, two_chapters):
    a = two_chapters["a"]
    application = make_application(a)
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/applications/{application.id}/reject",
                       data={"reject-reason": "非本店车主"})
    assert resp.status_code == 302
    db.session.expire_all()
    with chapter_scope(a.id):
        assert service.get_application(application.id).reason == "非本店车主"


def test_approving_a_decided_application_again_answers_409(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    client.post(f"/chapter/applications/{application.id}/approve")
    assert client.post(f"/chapter/applications/{application.id}/approve").status_code == 409


def test_approving_a_person_who_joined_elsewhere_shows_the_clear_message_only(
        client, login_as, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    person = id_number()
    waiting = make_application(b, mobile="13700000001", id_number=person, name="张叁")
    member = make_member_of(a, mobile="13912345678", id_number=person, name="张三")
    login_as(two_chapters["manager_b"])
    resp = client.post(f"/chapter/applications/{waiting.id}/approve")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "data-already-member" in html
    for secret in (a.name, a.dealer.code, member.member_number, "张三", "13912345678"):
        assert secret not in html


def test_another_chapters_application_is_not_found(client, login_as, two_chapters):
    application = make_application(two_chapters["a"])
    resp = _page(client, login_as, two_chapters["manager_b"],
                 f"/chapter/applications/{application.id}")
    assert resp.status_code == 404
