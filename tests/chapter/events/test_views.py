"""Event pages: the chapter's list, calendar, form, detail, door and audience; portal; HQ."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa

from chapter.events.models import Event, EventFeedback, EventRegistration
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.events.factories import (
    load_registration,
    make_event,
    make_event_today,
    register,
    segmented_members,
)
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member, make_user

ENGLISH = {"Accept-Language": "en"}


def _count(model, *where):
    with unscoped("test"):
        return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def test_staff_see_the_list_and_the_calendar(client, login_as, two_chapters):
    make_event(two_chapters["a"], title_zh="春季爱车课堂")
    make_event(two_chapters["b"], title_zh="别人的活动")
    login_as(two_chapters["staff_a"])
    page = client.get("/chapter/events/").get_data(as_text=True)
    assert "春季爱车课堂" in page and "别人的活动" not in page
    cal = client.get("/chapter/events/calendar")
    assert cal.status_code == 200 and 'data-testid="calendar"' in cal.get_data(as_text=True)


def test_a_manager_creates_a_monthly_series_from_the_form(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    resp = client.post("/chapter/events/new", data={
        "type": "car_care", "title_zh": "爱车课堂", "place": "展厅", "capacity": "20",
        "starts_at": "2030-03-10T14:00", "ends_at": "2030-03-10T16:00", "max_guests": "1",
        "attendance_points": "50", "frequency": "monthly", "occurrences": "3"})
    assert resp.status_code == 302
    assert _count(Event) == 3


def test_the_form_names_a_missing_field_and_creates_nothing(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    resp = client.post("/chapter/events/new", headers=ENGLISH, data={
        "type": "car_care", "title_zh": "", "place": "展厅", "capacity": "20",
        "starts_at": "2030-03-10T14:00", "ends_at": "2030-03-10T16:00"})
    assert resp.status_code == 422
    assert 'data-field-error="title_zh"' in resp.get_data(as_text=True)
    assert _count(Event) == 0


def test_staff_cannot_open_the_new_event_form(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    assert client.get("/chapter/events/new").status_code == 403


def test_the_detail_page_shows_the_summary_and_the_waitlist(client, login_as, two_chapters):
    a = two_chapters["a"]
    event_id = make_event(a, capacity=1)
    register(a, event_id, make_member(a).id)
    register(a, event_id, make_member(a).id)
    login_as(two_chapters["staff_a"])
    page = client.get(f"/chapter/events/{event_id}").get_data(as_text=True)
    assert 'data-stat="registered">1<' in page and 'data-stat="waitlisted">1<' in page


def test_the_door_checks_in_by_code_and_refuses_a_foreign_code(client, login_as, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    event_id = make_event_today(a)
    registration_id = register(a, event_id, make_member(a).id, now=utcnow() - timedelta(days=3))
    foreign = load_registration(b, register(b, make_event_today(b), make_member(b).id,
                                            now=utcnow() - timedelta(days=3))).code
    login_as(two_chapters["staff_a"])
    bad = client.post(f"/chapter/events/{event_id}/check-in", data={"code": foreign},
                      headers=ENGLISH)
    assert bad.status_code == 422
    assert "No registration has this code." in bad.get_data(as_text=True)
    ok = client.post(f"/chapter/events/{event_id}/check-in",
                     data={"code": load_registration(a, registration_id).code})
    assert ok.status_code == 302
    assert load_registration(a, registration_id).checked_in_at is not None


def test_the_door_finds_people_by_name_and_adds_walk_ins(client, login_as, two_chapters):
    a = two_chapters["a"]
    member = make_member(a, name="张三丰")
    event_id = make_event_today(a)
    register(a, event_id, member.id, now=utcnow() - timedelta(days=3))
    login_as(two_chapters["staff_a"])
    found = client.get(f"/chapter/events/{event_id}/check-in?q=张三").get_data(as_text=True)
    assert "张三丰" in found
    resp = client.post(f"/chapter/events/{event_id}/walk-in", data={"name": "路人乙"})
    assert resp.status_code == 302
    assert _count(EventRegistration, EventRegistration.walk_in.is_(True)) == 1


def test_another_chapters_event_pages_are_not_found(client, login_as, two_chapters):
    event_id = make_event(two_chapters["b"])
    login_as(two_chapters["manager_a"])
    for path in ("", "/check-in", "/edit", "/audience"):
        assert client.get(f"/chapter/events/{event_id}{path}").status_code == 404


def test_the_audience_page_counts_then_invites(client, login_as, two_chapters):
    a = two_chapters["a"]
    event_id = make_event(a)
    member = make_member(a)
    with chapter_scope(a.id):
        from hq.members.models import Member

        db.session.execute(sa.update(Member).where(Member.id == member.id)
                           .values(consent_email=True, email="m@example.com"))
        db.session.commit()
    login_as(two_chapters["manager_a"])
    page = client.get(f"/chapter/events/{event_id}/audience?tiers=silver&count=1",
                      headers=ENGLISH).get_data(as_text=True)
    assert "1 members match; 1 not invited yet." in page
    resp = client.post(f"/chapter/events/{event_id}/audience", data={"tiers": "silver"})
    assert resp.status_code == 302
    from chapter.events.models import EventInvitation

    assert _count(EventInvitation) == 1


def test_the_audience_page_filters_by_value_segment_and_loyalty(client, login_as, two_chapters):
    from chapter.events.models import EventInvitation

    a = two_chapters["a"]
    ids = segmented_members(a)
    event_id = make_event(a)
    login_as(two_chapters["manager_a"])
    url = f"/chapter/events/{event_id}/audience"
    page = client.get(f"{url}?value_segments=D&value_segments=G&loyalties=B&loyalties=C&count=1",
                      headers=ENGLISH).get_data(as_text=True)
    assert "2 members match; 2 not invited yet." in page
    assert 'name="value_segments" value="G" checked' in page
    assert '<input type="hidden" name="loyalties" value="C">' in page
    resp = client.post(url, data={"value_segments": ["D", "G"], "loyalties": ["B", "C"]})
    assert resp.status_code == 302
    with unscoped("test"):
        invited = set(db.session.execute(sa.select(EventInvitation.member_id)).scalars())
    assert invited == {ids["GC"], ids["GB"]}


def test_an_unknown_segment_on_the_audience_page_is_shown_on_its_field(
        client, login_as, two_chapters):
    event_id = make_event(two_chapters["a"])
    login_as(two_chapters["manager_a"])
    resp = client.get(f"/chapter/events/{event_id}/audience?loyalties=Z&count=1",
                      headers=ENGLISH)
    assert resp.status_code == 422
    assert 'data-field-error="loyalties">Unknown loyalty: Z.' in resp.get_data(as_text=True)


def test_no_shows_are_marked_after_the_event(client, login_as, two_chapters):
    a = two_chapters["a"]
    starts = utcnow() - timedelta(hours=4)
    event_id = make_event(a, starts_at=starts, ends_at=starts + timedelta(hours=1),
                          rsvp_deadline=starts - timedelta(days=1))
    registration_id = register(a, event_id, make_member(a).id, now=starts - timedelta(days=2))
    login_as(two_chapters["staff_a"])
    assert client.post(f"/chapter/events/{event_id}/no-shows").status_code == 302
    assert load_registration(a, registration_id).no_show


def test_an_application_from_an_event_can_name_it(client, login_as, two_chapters):
    from chapter.recruitment.models import Application
    from tests.factories import make_owner

    a = two_chapters["a"]
    event_id = make_event(a)
    owner = make_owner(a)
    login_as(two_chapters["staff_a"])
    form = client.get(f"/chapter/applications/new?owner_id={owner.id}").get_data(as_text=True)
    assert f'value="{event_id}"' in form
    resp = client.post("/chapter/applications/new", data={
        "owner_id": owner.id, "source": "event", "event_id": event_id})
    assert resp.status_code == 302
    with chapter_scope(a.id):
        assert db.session.execute(sa.select(Application.event_id)).scalar_one() == event_id


# --- portal -----------------------------------------------------------------------------------

def test_a_member_rsvps_in_the_portal_and_sees_the_qr_code(client, login_as, two_chapters):
    a = two_chapters["a"]
    member = make_portal_member(a)
    event_id = make_event(a, title_zh="爱车课堂五月")
    login_as(member.user)
    assert "爱车课堂五月" in client.get("/portal/events/").get_data(as_text=True)
    resp = client.post(f"/portal/events/{event_id}/rsvp", data={"guests": "0"})
    assert resp.status_code == 302
    page = client.get(f"/portal/events/{event_id}").get_data(as_text=True)
    assert 'data-testid="registration-qr"' in page and "data:image/svg+xml" in page
    assert client.post(f"/portal/events/{event_id}/cancel").status_code == 302
    assert _count(EventRegistration, EventRegistration.status == "cancelled") == 1


def test_a_member_cannot_open_another_chapters_event(client, login_as, two_chapters):
    member = make_portal_member(two_chapters["a"])
    event_id = make_event(two_chapters["b"])
    login_as(member.user)
    assert client.get(f"/portal/events/{event_id}").status_code == 404
    assert client.post(f"/portal/events/{event_id}/rsvp", data={}).status_code == 404


def test_feedback_in_the_portal_once(client, login_as, two_chapters):
    a = two_chapters["a"]
    member = make_portal_member(a)
    event_id = make_event_today(a)
    registration_id = register(a, event_id, member.member_id, now=utcnow() - timedelta(days=3))
    with chapter_scope(a.id):
        load_registration(a, registration_id).checked_in_at = utcnow()
        db.session.commit()
    login_as(member.user)
    first = client.post(f"/portal/events/{event_id}/feedback", data={"rating": "5"})
    second = client.post(f"/portal/events/{event_id}/feedback", data={"rating": "3"},
                         headers=ENGLISH)
    assert (first.status_code, second.status_code) == (302, 422)
    assert _count(EventFeedback) == 1


# --- HQ ---------------------------------------------------------------------------------------

def test_hq_creates_a_template_and_exports_the_report(client, login_as, two_chapters):
    import openpyxl

    a = two_chapters["a"]
    register(a, make_event_today(a), make_member(a).id, now=utcnow() - timedelta(days=3))
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/events/templates/new", data={
        "type": "car_care", "title_zh": "爱车课堂", "duration_minutes": "120",
        "capacity": "30", "max_guests": "0", "attendance_points": "50", "published": "y"})
    assert resp.status_code == 302
    assert "爱车课堂" in client.get("/hq/events/templates").get_data(as_text=True)
    report = client.get("/hq/events/report")
    assert report.status_code == 200 and a.name in report.get_data(as_text=True)
    csv = client.get("/hq/events/report.csv").get_data(as_text=True)
    assert csv.splitlines()[0].lstrip("\ufeff").startswith("month,region,chapter_id")
    xlsx = client.get("/hq/events/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 2 and sheet.cell(2, 6).value == 1


def test_chapter_staff_cannot_open_hq_event_pages(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    assert client.get("/hq/events/report").status_code == 403
    assert client.get("/hq/events/templates").status_code == 403
