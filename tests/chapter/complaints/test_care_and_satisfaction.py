"""Complaints on the care list (promised call-backs, escalations) and service satisfaction."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.care.models import CareTask, ServiceFeedback
from chapter.complaints import satisfaction, service
from clubplatform import dates
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.complaints.factories import later, make_complaint
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_user


def _tasks(chapter):
    with chapter_scope(chapter.id):
        db.session.expire_all()
        return db.session.execute(sa.select(CareTask).order_by(CareTask.id)).scalars().all()


def test_a_promised_call_back_goes_on_the_care_list_of_the_complaints_owner(two_chapters):
    a, staff = two_chapters["a"], two_chapters["staff_a"]
    due = later(26)
    complaint = make_complaint(a, staff=staff, callback_due_at=due)
    [task] = _tasks(a)
    assert (task.owner_id, task.assignee_id, task.reason) == \
        (complaint.owner_id, staff.id, "complaint_callback")
    assert task.due_on == due.astimezone(dates.SHANGHAI).date()
    assert task.source_key.startswith(f"complaint:{complaint.id}:callback:")


def test_a_new_promise_replaces_the_open_call_back_and_the_same_one_again_adds_nothing(
        two_chapters):
    a, staff = two_chapters["a"], two_chapters["staff_a"]
    complaint = make_complaint(a, staff=staff)
    nxt = later(48)
    with chapter_scope(a.id):
        c = service.get_complaint(complaint.id)
        service.log_contact(c, "约定后天回访", callback_due_at=nxt, actor=staff)
        service.update_complaint(c, {"callback_due_at": nxt}, actor=staff)  # the same promise
        db.session.commit()
    first, second = _tasks(a)
    assert (first.status, second.status) == ("cancelled", "open")
    assert second.due_on == nxt.astimezone(dates.SHANGHAI).date()


def test_closing_a_complaint_takes_its_open_call_back_off_the_care_list(two_chapters):
    a, staff = two_chapters["a"], two_chapters["staff_a"]
    complaint = make_complaint(a, staff=staff, callback_due_at=later(26))
    with chapter_scope(a.id):
        service.close_complaint(service.get_complaint(complaint.id),
                                {"resolution": "已更换配件"}, actor=staff)
        db.session.commit()
    assert [t.status for t in _tasks(a)] == ["cancelled"]


def test_an_escalation_goes_on_the_care_list_once(two_chapters):
    a = two_chapters["a"]
    received = utcnow() - timedelta(hours=6)
    complaint = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=1))
    for _ in range(2):
        with chapter_scope(a.id):
            service.escalate_due(a.id)
            db.session.commit()
    escalations = [t for t in _tasks(a) if t.reason == "complaint_escalated"]
    assert len(escalations) == 1
    assert escalations[0].source_key == f"complaint:{complaint.id}:escalated:0"


def test_care_tasks_stay_in_the_complaints_chapter(two_chapters):
    make_complaint(two_chapters["b"])
    assert _tasks(two_chapters["a"]) == []


# --- satisfaction after service visits ----------------------------------------------------

def _feedback(chapter, advisor, score, *, when=None):
    visit = make_visit(chapter, make_vehicle(chapter))
    with chapter_scope(chapter.id):
        db.session.add(ServiceFeedback(chapter_id=chapter.id, visit_id=visit.id,
                                       owner_id=visit.owner_id, score=score,
                                       advisor_id=advisor.id if advisor else None,
                                       recorded_at=when or utcnow()))
        db.session.commit()


def test_satisfaction_per_advisor_and_for_the_chapter(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    li = make_user("chapter_staff", chapter=a, display_name="李娜")
    wang = make_user("chapter_staff", chapter=a, display_name="王强")
    for score in (5, 4):
        _feedback(a, li, score)
    _feedback(a, wang, 2)
    _feedback(b, two_chapters["staff_b"], 1)
    with chapter_scope(a.id):
        rows = satisfaction.per_advisor(a.id).rows
        overall = satisfaction.chapter_average(a.id)
    assert [(r.label, r.responses, r.average, r.low) for r in rows] == [
        ("王强", 1, 2.0, 1), ("李娜", 2, 4.5, 0)]
    assert (overall.responses, overall.average) == (3, 3.67)


def test_satisfaction_per_chapter_for_hq(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    _feedback(a, two_chapters["staff_a"], 5)
    _feedback(b, two_chapters["staff_b"], 3)
    _feedback(b, two_chapters["staff_b"], 1, when=utcnow() - timedelta(days=400))
    start, end = dates.today() - timedelta(days=30), dates.today()
    rows = {r.key: r for r in satisfaction.per_chapter(start=start, end=end).rows}
    assert (rows[str(a.id)].average, rows[str(b.id)].average, rows[str(b.id)].responses) == \
        (5.0, 3.0, 1)


def test_the_satisfaction_page_and_api(client, login_as, two_chapters):
    a = two_chapters["a"]
    _feedback(a, two_chapters["staff_a"], 4)
    login_as(two_chapters["manager_a"])
    html = client.get("/chapter/complaints/satisfaction").get_data(as_text=True)
    assert 'data-testid="chapter-average">4.0<' in html
    body = client.get("/api/v1/chapter/complaints/satisfaction").get_json()
    assert [(r["responses"], r["average"]) for r in body] == [(1, 4.0)]


def test_hq_sees_service_satisfaction_per_chapter(client, login_as, two_chapters):
    _feedback(two_chapters["a"], two_chapters["staff_a"], 5)
    login_as(make_user("hq_analyst"))
    html = client.get("/hq/complaints/").get_data(as_text=True)
    assert 'data-testid="service-satisfaction"' in html
    body = client.get("/api/v1/hq/complaints/satisfaction").get_json()
    assert [(r["key"], r["average"]) for r in body] == [(str(two_chapters["a"].id), 5.0)]
