"""Complaint pages: the chapter's list and escalated panel, recording, working, closing;
the member's portal pages; HQ's figures, export and hotline."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.complaints import service
from chapter.complaints.models import Complaint
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.complaints.factories import load, make_complaint
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member, make_owner, make_user

ENGLISH = {"Accept-Language": "en"}


def _local(hours: float) -> str:
    """A call-back time for a form (Shanghai wall time, datetime-local format)."""
    from clubplatform import dates

    return (utcnow() + timedelta(hours=hours)).astimezone(dates.SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def staff_a(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    return two_chapters["staff_a"]


def _complaints(chapter):
    with chapter_scope(chapter.id):
        db.session.expire_all()
        return db.session.execute(sa.select(Complaint)).scalars().all()


def test_staff_find_the_owner_then_record_a_complaint(client, staff_a, two_chapters):
    a = two_chapters["a"]
    vehicle = make_vehicle(a)
    visit = make_visit(a, vehicle)
    owner = vehicle.owner
    found = client.get(f"/chapter/complaints/new?q={owner.mobile}").get_data(as_text=True)
    assert f"owner_id={owner.id}" in found
    resp = client.post(f"/chapter/complaints/new?owner_id={owner.id}", data={
        "channel": "in_person", "cause": "repair_quality", "severity": "high",
        "vehicle_id": str(vehicle.id), "visit_id": str(visit.id), "description": "喷漆色差",
        "assignee_id": str(staff_a.id), "callback_due_at": _local(3)})
    assert resp.status_code == 302
    [complaint] = _complaints(a)
    assert (complaint.visit_id, complaint.acknowledged_at is not None) == (visit.id, True)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "喷漆色差" in html


def test_a_call_back_in_the_past_is_shown_next_to_the_field(client, staff_a, two_chapters):
    owner = make_owner(two_chapters["a"])
    resp = client.post(f"/chapter/complaints/new?owner_id={owner.id}", headers=ENGLISH, data={
        "channel": "phone", "cause": "staff_mistake", "severity": "low", "description": "多收费",
        "assignee_id": str(staff_a.id), "callback_due_at": _local(-2)})
    assert resp.status_code == 422
    assert 'data-field-error="callback_due_at"' in resp.get_data(as_text=True)
    assert _complaints(two_chapters["a"]) == []


def test_another_chapters_owner_is_not_found(client, staff_a, two_chapters):
    owner_b = make_owner(two_chapters["b"])
    assert client.get(f"/chapter/complaints/new?owner_id={owner_b.id}").status_code == 404


def test_the_list_shows_escalated_complaints_first_in_the_managers_panel(client, login_as,
                                                                        two_chapters):
    a = two_chapters["a"]
    login_as(two_chapters["manager_a"])
    received = utcnow() - timedelta(hours=6)
    late = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=1))
    make_complaint(a)
    with chapter_scope(a.id):
        service.escalate_due(a.id)
        db.session.commit()
    html = client.get("/chapter/complaints/").get_data(as_text=True)
    panel = html[html.index('data-testid="escalated"'):html.index('data-testid="complaints"')]
    assert f"#{late.id}" in panel


def test_the_list_does_not_show_another_chapters_complaints(client, staff_a, two_chapters):
    make_complaint(two_chapters["b"], description="别的分会的投诉")
    assert "别的分会的投诉" not in client.get("/chapter/complaints/?status=").get_data(as_text=True)


def test_closing_without_a_resolution_shows_the_error_and_keeps_it_open(client, staff_a,
                                                                       two_chapters):
    complaint = make_complaint(two_chapters["a"])
    resp = client.post(f"/chapter/complaints/{complaint.id}/close", headers=ENGLISH,
                       data={"resolution": "", "goodwill_kind": "none", "satisfaction": "4"})
    assert resp.status_code == 422
    assert 'data-field-error="resolution"' in resp.get_data(as_text=True)
    assert load(two_chapters["a"], complaint.id).status == "open"


def test_close_with_goodwill_points_then_reopen(client, staff_a, two_chapters):
    a = two_chapters["a"]
    member = make_member(a, by=two_chapters["manager_a"])
    from tests.chapter.complaints.test_service import owners_owner

    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    resp = client.post(f"/chapter/complaints/{complaint.id}/close", data={
        "resolution": "返修完成", "goodwill_kind": "points", "goodwill_points": "200",
        "goodwill_reason": "延误补偿", "satisfaction": "4"})
    assert resp.status_code == 302
    stored = load(a, complaint.id)
    assert (stored.status, stored.goodwill_points, stored.satisfaction) == ("closed", 200, 4)
    client.post(f"/chapter/complaints/{complaint.id}/reopen", data={"reason": "问题复现"})
    html = client.get(f"/chapter/complaints/{complaint.id}", headers=ENGLISH).get_data(as_text=True)
    assert load(a, complaint.id).reopen_count == 1
    assert "Reopened" in html and "返修完成" in html


def test_log_a_contact(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["a"])
    resp = client.post(f"/chapter/complaints/{complaint.id}/contacts",
                       data={"note": "已回电说明", "visible_to_owner": "y"})
    assert resp.status_code == 302
    assert load(two_chapters["a"], complaint.id).callback_due_at is None


def test_another_chapters_complaint_page_is_not_found(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["b"])
    assert client.get(f"/chapter/complaints/{complaint.id}").status_code == 404


def test_the_manager_sets_the_limits(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    resp = client.post("/chapter/complaints/limits",
                       data={"open_limit_days": "5", "goodwill_limit_points": "800"})
    assert resp.status_code == 302
    with chapter_scope(two_chapters["a"].id):
        assert service.limits(two_chapters["a"].id) == service.Limits(5, 800)


def test_staff_do_not_set_the_limits(client, staff_a):
    assert client.get("/chapter/complaints/limits").status_code == 403


def test_the_satisfaction_page_says_when_there_are_no_scores_yet(client, staff_a):
    resp = client.get("/chapter/complaints/satisfaction")
    assert resp.status_code == 200


# --- the portal ----------------------------------------------------------------------------

def test_a_member_raises_a_complaint_in_the_portal_and_follows_it(client, login_as, two_chapters):
    a = two_chapters["a"]
    pm = make_portal_member(a)
    login_as(pm.user)
    resp = client.post("/portal/complaints/", data={"cause": "service_attitude",
                                                     "description": "接待冷淡"})
    assert resp.status_code == 302
    [complaint] = _complaints(a)
    assert (complaint.owner_id, complaint.raised_by, complaint.acknowledged_at) == \
        (pm.owner_id, "member", None)
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "接待冷淡" in html
    assert f"#{complaint.id}" in client.get("/portal/complaints/").get_data(as_text=True)


def test_a_member_does_not_open_another_owners_complaint(client, login_as, two_chapters):
    pm = make_portal_member(two_chapters["a"])
    other = make_complaint(two_chapters["a"])
    login_as(pm.user)
    assert client.get(f"/portal/complaints/{other.id}").status_code == 404


def test_internal_notes_stay_off_the_portal(client, login_as, two_chapters):
    a = two_chapters["a"]
    pm = make_portal_member(a)
    from tests.chapter.complaints.test_service import owners_owner

    complaint = make_complaint(a, owner=owners_owner(a, pm.owner_id))
    with chapter_scope(a.id):
        service.log_contact(service.get_complaint(complaint.id), "内部备注不给车主看",
                            visible_to_owner=False)
        db.session.commit()
    login_as(pm.user)
    assert "内部备注" not in client.get(f"/portal/complaints/{complaint.id}").get_data(as_text=True)


# --- HQ ------------------------------------------------------------------------------------

def test_hq_sees_figures_per_region_with_export(client, login_as, two_chapters):
    make_complaint(two_chapters["a"])
    make_complaint(two_chapters["b"], cause="service_attitude")
    login_as(make_user("hq_analyst"))
    html = client.get("/hq/complaints/?group=region").get_data(as_text=True)
    total = re.search(r'data-testid="total">(\d+)<', html)
    assert total.group(1) == "2"
    xlsx = client.get("/hq/complaints/export?group=chapter&fmt=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1  # header, two chapters, the total
    csv = client.get("/hq/complaints/export?group=month&fmt=csv")
    assert csv.mimetype == "text/csv"


def test_exports_are_audited(client, login_as, two_chapters):
    from clubplatform.audit.models import AuditLog

    login_as(make_user("hq_analyst"))
    client.get("/hq/complaints/export?fmt=csv")
    with unscoped("test: the audit log"):
        actions = db.session.execute(sa.select(AuditLog.target_type)).scalars().all()
    assert "complaint_figures" in actions


def test_hq_admin_records_a_hotline_complaint(client, login_as, two_chapters):
    b = two_chapters["b"]
    member = make_member(b)
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/complaints/hotline", data={
        "member_number": member.member_number, "cause": "product_quality", "severity": "high",
        "description": "车机死机"})
    assert resp.status_code == 302
    [complaint] = _complaints(b)
    assert complaint.channel == "hq_hotline"


@pytest.mark.parametrize("who", ["manager_a", "staff_a"])
def test_chapter_users_do_not_open_hqs_pages(client, login_as, two_chapters, who):
    login_as(two_chapters[who])
    assert client.get("/hq/complaints/").status_code == 403


# --- flags on other pages ------------------------------------------------------------------

def test_the_owner_page_and_members_list_flag_an_open_complaint(client, staff_a, two_chapters):
    a = two_chapters["a"]
    member = make_member(a, by=two_chapters["manager_a"])
    calm = make_member(a, by=two_chapters["manager_a"])
    from tests.chapter.complaints.test_service import owners_owner

    make_complaint(a, owner=owners_owner(a, member.owner_id))
    owner_page = client.get(f"/chapter/owners/{member.owner_id}").get_data(as_text=True)
    assert 'data-testid="open-complaint"' in owner_page
    calm_page = client.get(f"/chapter/owners/{calm.owner_id}").get_data(as_text=True)
    assert 'data-testid="open-complaint"' not in calm_page
    members = client.get("/chapter/members/").get_data(as_text=True)
    assert members.count('data-testid="open-complaint"') == 1


def test_the_list_filters_by_owner(client, staff_a, two_chapters):
    a = two_chapters["a"]
    mine = make_complaint(a, description="这位车主的投诉")
    make_complaint(a, description="另一位车主的投诉")
    html = client.get(f"/chapter/complaints/?owner_id={mine.owner_id}").get_data(as_text=True)
    table = html[html.index('data-testid="complaints"'):]
    assert re.findall(r'>#(\d+)</a>', table) == [str(mine.id)]


def test_the_chapter_console_shows_escalated_complaints(client, login_as, two_chapters):
    a = two_chapters["a"]
    login_as(two_chapters["manager_a"])
    assert "console-escalated" in client.get("/chapter/").get_data(as_text=True)
    received = utcnow() - timedelta(hours=6)
    late = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=1))
    with chapter_scope(a.id):
        service.escalate_due(a.id)
        db.session.commit()
    html = client.get("/chapter/").get_data(as_text=True)
    panel = html[html.index('data-testid="console-escalated"'):]
    assert f"#{late.id}" in panel[:panel.index("</section>")]
