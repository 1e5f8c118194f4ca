"""The events API: chapter staff, members in the portal, HQ templates and report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.events.models import Event, EventFeedback, EventRegistration
from clubplatform.auth import service as auth
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from tests.chapter.events.factories import (
    load_registration,
    make_event,
    make_event_today,
    register,
    segmented_members,
)
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member, make_user

URL = "/api/v1/chapter/events"
PORTAL = "/api/v1/portal/events"


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


def _count(model):
    with unscoped("test"):
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _iso(dt):
    return dt.isoformat()


def test_a_manager_creates_an_event_and_staff_list_it(client, bearer, two_chapters):
    start = utcnow() + timedelta(days=5)
    resp = client.post(URL, headers=bearer(two_chapters["manager_a"]), json={
        "type": "gala", "title_zh": "答谢晚会", "title_en": "Gala", "place": "酒店",
        "starts_at": _iso(start), "ends_at": _iso(start + timedelta(hours=3)), "capacity": 100,
        "max_guests": 1})
    assert resp.status_code == 201, resp.get_json()
    listed = client.get(URL + "?upcoming=true", headers=bearer(two_chapters["staff_a"]))
    assert [e["title_en"] for e in listed.get_json()] == ["Gala"]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1


def test_staff_cannot_create_events(client, bearer, two_chapters):
    resp = client.post(URL, headers=bearer(two_chapters["staff_a"]), json={
        "type": "gala", "title_zh": "x", "place": "y", "capacity": 5,
        "starts_at": _iso(utcnow() + timedelta(days=1))})
    assert resp.status_code == 403
    assert _count(Event) == 0


def test_a_naive_start_time_means_shanghai_time(client, bearer, two_chapters):
    resp = client.post(URL, headers=bearer(two_chapters["manager_a"]), json={
        "type": "car_care", "title_zh": "课堂", "place": "展厅", "capacity": 10,
        "starts_at": "2030-05-01T14:00:00", "ends_at": "2030-05-01T16:00:00"})
    assert resp.get_json()["starts_at"].startswith("2030-05-01T06:00:00")


def test_a_series_creates_monthly_events(client, bearer, two_chapters):
    resp = client.post(URL + "/series", headers=bearer(two_chapters["manager_a"]), json={
        "type": "car_care", "title_zh": "爱车课堂", "place": "展厅", "capacity": 30,
        "starts_at": "2030-01-15T14:00:00", "ends_at": "2030-01-15T16:00:00",
        "frequency": "monthly", "occurrences": 12})
    assert resp.status_code == 201, resp.get_json()
    assert len(resp.get_json()["events"]) == 12
    with_ends = [e for e in resp.get_json()["events"] if e["ends_at"]]
    assert len(with_ends) == 12


def test_bad_input_names_the_field_and_writes_nothing(client, bearer, two_chapters):
    resp = client.post(URL, headers=bearer(two_chapters["manager_a"]), json={
        "type": "car_care", "title_zh": "课堂", "place": "展厅", "capacity": 10,
        "starts_at": "2030-05-01T14:00:00", "ends_at": "2030-05-01T13:00:00"})
    body = resp.get_json()
    assert resp.status_code == 422 and "ends_at" in body["error"]["fields"]
    assert _count(Event) == 0


def test_another_chapters_event_is_not_found(client, bearer, two_chapters):
    event_id = make_event(two_chapters["b"])
    for path in ("", "/summary", "/registrations"):
        assert client.get(f"{URL}/{event_id}{path}",
                          headers=bearer(two_chapters["manager_a"])).status_code == 404
    resp = client.patch(f"{URL}/{event_id}", headers=bearer(two_chapters["manager_a"]),
                        json={"capacity": 1})
    assert resp.status_code == 404


def test_capacity_below_the_registrations_is_refused(client, bearer, two_chapters):
    a = two_chapters["a"]
    event_id = make_event(a, capacity=5)
    for _ in range(3):
        register(a, event_id, make_member(a).id)
    resp = client.patch(f"{URL}/{event_id}", headers=bearer(two_chapters["manager_a"]),
                        json={"capacity": 2})
    assert resp.status_code == 422
    assert "capacity" in resp.get_json()["error"]["fields"]


def test_staff_check_in_by_code_and_again_changes_nothing(client, bearer, two_chapters):
    a = two_chapters["a"]
    event_id = make_event_today(a)
    registration_id = register(a, event_id, make_member(a).id, now=utcnow() - timedelta(days=3))
    code = load_registration(a, registration_id).code
    headers = bearer(two_chapters["staff_a"])
    first = client.post(f"{URL}/{event_id}/check-in", headers=headers,
                        json={"code": code[:4] + "-" + code[4:].lower()})
    again = client.post(f"{URL}/{event_id}/check-in", headers=headers, json={"code": code})
    assert (first.status_code, first.get_json()["newly"]) == (200, True)
    assert (again.status_code, again.get_json()["newly"]) == (200, False)


def test_check_in_of_another_chapters_code_is_refused_and_nothing_written(
        client, bearer, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    b_reg = register(b, make_event_today(b), make_member(b).id,
                     now=utcnow() - timedelta(days=3))
    event_id = make_event_today(a)
    resp = client.post(f"{URL}/{event_id}/check-in", headers=bearer(two_chapters["staff_a"]),
                       json={"code": load_registration(b, b_reg).code})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["code"] == ["No registration has this code."]
    assert load_registration(b, b_reg).checked_in_at is None


def test_walk_in_and_summary(client, bearer, two_chapters):
    a = two_chapters["a"]
    event_id = make_event_today(a)
    headers = bearer(two_chapters["staff_a"])
    resp = client.post(f"{URL}/{event_id}/walk-ins", headers=headers,
                       json={"name": "路人", "mobile": "13800138000"})
    assert resp.status_code == 201, resp.get_json()
    summary = client.get(f"{URL}/{event_id}/summary", headers=headers).get_json()
    assert (summary["registered"], summary["attended"], summary["walk_ins"],
            summary["attendance_rate"]) == (1, 1, 1, 1.0)


def test_the_audience_count_before_sending_and_the_invitations(client, bearer, two_chapters):
    a = two_chapters["a"]
    event_id = make_event(a)
    member = make_portal_member(a)
    with unscoped("test"):
        from hq.members.models import Member

        db.session.execute(sa.update(Member).where(Member.id == member.member_id)
                           .values(consent_portal=True))
        db.session.commit()
    headers = bearer(two_chapters["manager_a"])
    count = client.post(f"{URL}/{event_id}/audience", headers=headers, json={"tiers": ["silver"]})
    assert count.get_json() == {"matching": 1, "new": 1}
    sent = client.post(f"{URL}/{event_id}/invitations", headers=headers, json={})
    again = client.post(f"{URL}/{event_id}/invitations", headers=headers, json={})
    assert (sent.get_json()["invited"], again.get_json()["invited"]) == (1, 0)
    assert client.get(f"{URL}/{event_id}/summary", headers=headers).get_json()["invited"] == 1


def test_the_audience_api_filters_by_value_segment_and_loyalty(client, bearer, two_chapters):
    from chapter.events.models import EventInvitation

    a = two_chapters["a"]
    ids = segmented_members(a)
    event_id = make_event(a)
    headers = bearer(two_chapters["manager_a"])
    body = {"value_segments": ["D", "S"], "loyalties": ["A"]}
    count = client.post(f"{URL}/{event_id}/audience", headers=headers, json=body)
    assert count.get_json() == {"matching": 2, "new": 2}
    sent = client.post(f"{URL}/{event_id}/invitations", headers=headers, json=body)
    assert (sent.status_code, sent.get_json()["invited"]) == (201, 2)
    with unscoped("test"):
        invited = set(db.session.execute(sa.select(EventInvitation.member_id)).scalars())
    assert invited == {ids["DA"], ids["SA"]}


def test_an_unknown_value_segment_is_refused_by_the_api(client, bearer, two_chapters):
    event_id = make_event(two_chapters["a"])
    resp = client.post(f"{URL}/{event_id}/audience", headers=bearer(two_chapters["manager_a"]),
                       json={"value_segments": ["X"], "loyalties": ["A"]})
    assert resp.status_code == 422
    assert "value_segments" in resp.get_json()["error"]["fields"]


# --- portal ---------------------------------------------------------------------------------

def test_a_member_rsvps_sees_the_code_and_cancels(client, bearer, two_chapters):
    a = two_chapters["a"]
    member = make_portal_member(a)
    event_id = make_event(a, max_guests=2)
    headers = bearer(member.user)
    listed = client.get(PORTAL, headers=headers).get_json()
    assert [e["id"] for e in listed] == [event_id]
    resp = client.post(f"{PORTAL}/{event_id}/rsvp", headers=headers, json={"guests": 2})
    body = resp.get_json()
    assert (resp.status_code, body["status"], body["guests"]) == (200, "registered", 2)
    assert body["qr_svg"].startswith("data:image/svg+xml") and len(body["code"]) == 16
    mine = client.get(f"{PORTAL}/registrations", headers=headers).get_json()
    assert [r["event_id"] for r in mine] == [event_id]
    cancelled = client.post(f"{PORTAL}/{event_id}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"


def test_a_member_cannot_rsvp_to_another_chapters_event(client, bearer, two_chapters):
    member = make_portal_member(two_chapters["a"])
    event_id = make_event(two_chapters["b"])
    resp = client.post(f"{PORTAL}/{event_id}/rsvp", headers=bearer(member.user), json={})
    assert resp.status_code == 404
    assert _count(EventRegistration) == 0


def test_rsvp_after_the_deadline_names_the_field(client, bearer, two_chapters):
    a = two_chapters["a"]
    member = make_portal_member(a)
    event_id = make_event_today(a)
    resp = client.post(f"{PORTAL}/{event_id}/rsvp", headers=bearer(member.user), json={})
    assert resp.status_code == 422
    assert "rsvp_deadline" in resp.get_json()["error"]["fields"]
    assert _count(EventRegistration) == 0


def test_feedback_twice_is_refused(client, bearer, two_chapters):
    a = two_chapters["a"]
    member = make_portal_member(a)
    event_id = make_event_today(a)
    registration_id = register(a, event_id, member.member_id, now=utcnow() - timedelta(days=3))
    client.post(f"{URL}/{event_id}/registrations/{registration_id}/check-in",
                headers=bearer(two_chapters["staff_a"]))
    headers = bearer(member.user)
    first = client.post(f"{PORTAL}/{event_id}/feedback", headers=headers,
                        json={"rating": 5, "comment": "好"})
    second = client.post(f"{PORTAL}/{event_id}/feedback", headers=headers, json={"rating": 1})
    assert (first.status_code, second.status_code) == (201, 409)
    assert "event_id" in second.get_json()["error"]["fields"]
    assert _count(EventFeedback) == 1


def test_chapter_staff_cannot_use_the_portal_api(client, bearer, two_chapters):
    assert client.get(PORTAL, headers=bearer(two_chapters["staff_a"])).status_code == 403


# --- HQ ---------------------------------------------------------------------------------------

def test_hq_publishes_a_template_that_chapters_see(client, bearer, two_chapters):
    admin = bearer(make_user("hq_admin"))
    resp = client.post("/api/v1/hq/events/templates", headers=admin, json={
        "type": "car_care", "title_zh": "爱车课堂", "capacity": 20, "published": False})
    template_id = resp.get_json()["id"]
    staff = bearer(two_chapters["staff_a"])
    assert client.get(URL + "/templates", headers=staff).get_json() == []
    client.patch(f"/api/v1/hq/events/templates/{template_id}", headers=admin,
                 json={"published": True})
    assert [t["id"] for t in client.get(URL + "/templates", headers=staff).get_json()] == \
        [template_id]


def test_an_analyst_reads_templates_but_cannot_write(client, bearer):
    analyst = bearer(make_user("hq_analyst"))
    assert client.get("/api/v1/hq/events/templates", headers=analyst).status_code == 200
    assert client.post("/api/v1/hq/events/templates", headers=analyst,
                       json={"type": "gala", "title_zh": "x"}).status_code == 403


def test_the_hq_report_counts_events_per_chapter_and_month(client, bearer, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    for chapter in (a, b):
        event_id = make_event_today(chapter)
        register(chapter, event_id, make_member(chapter).id, now=utcnow() - timedelta(days=3))
    rows = client.get("/api/v1/hq/events/report",
                      headers=bearer(make_user("hq_analyst"))).get_json()
    assert sorted((r["chapter_id"], r["events"], r["registered"]) for r in rows) == \
        sorted([(a.id, 1, 1), (b.id, 1, 1)])
    assert client.get("/api/v1/hq/events/report",
                      headers=bearer(two_chapters["manager_a"])).status_code == 403


def test_staff_cancel_for_a_member_and_the_waitlist_moves_up(client, bearer, two_chapters):
    a = two_chapters["a"]
    event_id = make_event(a, capacity=1)
    first = register(a, event_id, make_member(a).id)
    second = register(a, event_id, make_member(a).id)
    headers = bearer(two_chapters["staff_a"])
    resp = client.post(f"{URL}/{event_id}/registrations/{first}/cancel", headers=headers)
    assert resp.get_json()["status"] == "cancelled"
    listed = client.get(f"{URL}/{event_id}/registrations?status=registered",
                        headers=headers).get_json()
    assert [r["id"] for r in listed] == [second]


def test_the_calendar_lists_the_months_days_with_events(client, bearer, two_chapters):
    from datetime import datetime

    from clubplatform.dates import SHANGHAI

    make_event(two_chapters["a"], starts_at=datetime(2030, 5, 10, 12, 0, tzinfo=SHANGHAI))
    days = client.get(URL + "/calendar?month=2030-05",
                      headers=bearer(two_chapters["staff_a"])).get_json()
    assert len(days) % 7 == 0
    assert [d["day"] for d in days if d["events"]] == ["2030-05-10"]
