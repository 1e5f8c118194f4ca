"""Member pages: the chapter's list with filters and search, the member, status changes."""

from __future__ import annotations

from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members import service as members
from tests.chapter.recruitment.factories import make_member_of


def test_the_list_shows_only_the_chapters_members(client, login_as, two_chapters):
    make_member_of(two_chapters["a"], name="李雷", by=two_chapters["manager_a"])
    make_member_of(two_chapters["b"], name="韩梅梅", by=two_chapters["manager_b"])
    login_as(two_chapters["staff_a"])
    html = client.get("/chapter/members/").get_data(as_text=True)
    assert "李雷" in html and "韩梅梅" not in html


def test_the_list_searches_by_member_number(client, login_as, two_chapters):
    lilei = make_member_of(two_chapters["a"], name="李雷", by=two_chapters["manager_a"])
    make_member_of(two_chapters["a"], name="王芳", by=two_chapters["manager_a"])
    login_as(two_chapters["staff_a"])
    html = client.get(f"/chapter/members/?q={lilei.member_number}").get_data(as_text=True)
    assert "李雷" in html and "王芳" not in html


def test_the_list_filters_by_status(client, login_as, two_chapters):
    a = two_chapters["a"]
    lilei = make_member_of(a, name="李雷", by=two_chapters["manager_a"])
    make_member_of(a, name="王芳", by=two_chapters["manager_a"])
    with chapter_scope(a.id):
        members.change_status(members.get_member(lilei.id), "suspended")
        db.session.commit()
    login_as(two_chapters["staff_a"])
    html = client.get("/chapter/members/?status=suspended").get_data(as_text=True)
    assert "李雷" in html and "王芳" not in html


def test_a_malformed_joined_month_answers_422_with_a_message(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    resp = client.get("/chapter/members/?joined_month=2025-13")
    assert resp.status_code == 422 and "YYYY-MM" in resp.get_data(as_text=True)


def test_the_member_page_shows_number_status_history_consent_and_source(client, login_as,
                                                                        two_chapters):
    member = make_member_of(two_chapters["a"], name="李雷", by=two_chapters["manager_a"],
                            consents={"sms": True})
    login_as(two_chapters["staff_a"])
    html = client.get(f"/chapter/members/{member.id}").get_data(as_text=True)
    assert member.member_number in html
    assert 'data-member-status="active"' in html and 'data-period="active"' in html
    assert 'data-consent="sms"' in html and 'data-consent-no="email"' in html
    assert "/chapter/applications/" in html  # the application it came from


def test_the_manager_suspends_a_member_from_a_date_with_a_reason(client, login_as, two_chapters):
    a = two_chapters["a"]
    member = make_member_of(a, by=two_chapters["manager_a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/members/{member.id}/status",
                       data={"action": "suspend", "on": dates.today().isoformat(),
                             "reason": "暂停联系"})
    assert resp.status_code == 302
    html = client.get(f"/chapter/members/{member.id}").get_data(as_text=True)
    assert 'data-member-status="suspended"' in html and "暂停联系" in html


def test_leaving_without_a_reason_answers_422_naming_the_reason(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/members/{member.id}/status",
                       data={"action": "leave", "on": dates.today().isoformat(), "reason": ""})
    assert resp.status_code == 422
    assert 'data-field-error="reason"' in resp.get_data(as_text=True)


def test_staff_cannot_change_a_status(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["staff_a"])
    resp = client.post(f"/chapter/members/{member.id}/status", data={"action": "suspend"})
    assert resp.status_code == 403


def test_another_chapters_member_is_not_found(client, login_as, two_chapters):
    member = make_member_of(two_chapters["a"], by=two_chapters["manager_a"])
    login_as(two_chapters["manager_b"])
    assert client.get(f"/chapter/members/{member.id}").status_code == 404
