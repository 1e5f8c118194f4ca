"""Working the list: outcomes, satisfaction, reschedule, reassign, roll-over, ad-hoc items, reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.care import service
from chapter.care.models import CareTask, ServiceFeedback
from clubplatform import dates
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.care.factories import generate, owner, vehicle, visit
from tests.factories import make_user

TODAY = dates.today()


@pytest.fixture
def team(two_chapters):
    a = two_chapters["a"].id
    return {"cid": a, "staff": two_chapters["staff_a"].id, "manager": two_chapters["manager_a"].id,
            "other_staff": two_chapters["staff_b"].id}


def _task(cid, **kw) -> int:
    o = kw.pop("owner_id", None) or owner(cid, advisor_id=kw.pop("advisor_id", None))
    with chapter_scope(cid):
        t = service.add_task(chapter_id=cid, owner_id=o, reason=kw.pop("reason", "callback"),
                             due_on=kw.pop("due_on", TODAY), source_key=kw.pop("key", f"k{o}"),
                             **kw)
        db.session.commit()
        return t.id


def _get(cid, task_id) -> CareTask:
    db.session.remove()
    with chapter_scope(cid):
        return db.session.get(CareTask, task_id)


class Actor:
    def __init__(self, uid):
        self.id = uid


def test_add_task_is_idempotent_by_source_key(team):
    cid = team["cid"]
    o = owner(cid, advisor_id=team["staff"])
    first = _task(cid, owner_id=o, key="complaint:7:callback", label="投诉回访")
    again = _task(cid, owner_id=o, key="complaint:7:callback", due_on=TODAY + timedelta(days=3))

    assert first == again
    t = _get(cid, first)
    assert t.assignee_id == team["staff"] and t.due_on == TODAY and t.label == "投诉回访"


def test_add_task_refuses_another_chapters_owner(team, two_chapters):
    other_owner = owner(two_chapters["b"].id)
    with chapter_scope(team["cid"]), pytest.raises(DomainError) as exc:
        service.add_task(chapter_id=team["cid"], owner_id=other_owner, reason="x",
                         due_on=TODAY, source_key="x")
    assert "owner_id" in exc.value.fields


def test_recording_an_outcome_closes_the_item(team):
    cid = team["cid"]
    tid = _task(cid)
    with chapter_scope(cid):
        service.record_outcome(db.session.get(CareTask, tid), "no_answer", note="关机",
                               actor=Actor(team["staff"]))
        db.session.commit()
    t = _get(cid, tid)
    assert (t.status, t.outcome, t.note, t.done_on, t.done_by_id) == (
        "done", "no_answer", "关机", TODAY, team["staff"])


def test_an_unknown_outcome_names_the_field(team):
    tid = _task(team["cid"])
    with chapter_scope(team["cid"]), pytest.raises(DomainError) as exc:
        service.record_outcome(db.session.get(CareTask, tid), "maybe")
    assert list(exc.value.fields) == ["outcome"]


def test_a_follow_up_records_the_visits_satisfaction(team):
    cid = team["cid"]
    o = owner(cid, advisor_id=team["staff"])
    v = vehicle(cid, o)
    vid = visit(cid, o, v, TODAY - timedelta(days=3))
    generate(cid, TODAY)
    with chapter_scope(cid):
        task = db.session.execute(sa.select(CareTask).where(
            CareTask.reason == "follow_up_3d")).scalar_one()
        service.record_outcome(task, "reached", actor=Actor(team["manager"]), score=4,
                               comment="很满意")
        db.session.commit()
        fb = db.session.execute(sa.select(ServiceFeedback)).scalar_one()
        assert (fb.visit_id, fb.score, fb.comment, fb.advisor_id) == (vid, 4, "很满意",
                                                                      team["staff"])
        assert service.satisfaction_by_advisor(cid) == [(team["staff"], 1, 400)]


def test_satisfaction_needs_a_service_visit(team):
    tid = _task(team["cid"])
    with chapter_scope(team["cid"]), pytest.raises(DomainError) as exc:
        service.record_outcome(db.session.get(CareTask, tid), "reached", score=5)
    assert "score" in exc.value.fields


def test_rescheduling_moves_the_plan_not_the_due_date(team):
    cid = team["cid"]
    tid = _task(cid)
    with chapter_scope(cid):
        service.reschedule(db.session.get(CareTask, tid), TODAY + timedelta(days=2))
        db.session.commit()
        assert service.today_list(assignee_id=None) == {}
        later = service.today_list(assignee_id=None, today=TODAY + timedelta(days=2))
    t = _get(cid, tid)
    assert (t.due_on, t.scheduled_on) == (TODAY, TODAY + timedelta(days=2))
    assert sum(len(v) for v in later.values()) == 1


def test_rescheduling_into_the_past_is_refused(team):
    tid = _task(team["cid"])
    with chapter_scope(team["cid"]), pytest.raises(DomainError) as exc:
        service.reschedule(db.session.get(CareTask, tid), TODAY - timedelta(days=1))
    assert "scheduled_on" in exc.value.fields


def test_reassigning_only_to_the_chapters_staff(team):
    cid = team["cid"]
    tid = _task(cid, advisor_id=team["staff"])
    with chapter_scope(cid):
        task = db.session.get(CareTask, tid)
        with pytest.raises(DomainError):
            service.reassign(task, team["other_staff"])
        service.reassign(task, team["manager"])
        db.session.commit()
    assert _get(cid, tid).assignee_id == team["manager"]


def test_unfinished_items_roll_over_and_show_their_age(team):
    cid = team["cid"]
    _task(cid, due_on=TODAY - timedelta(days=3), advisor_id=team["staff"], label="回访")
    with chapter_scope(cid):
        groups = service.today_list(assignee_id=team["staff"])
    [(title, items)] = groups.items()
    assert title == "回访" and items[0].age == 3


def test_staff_see_only_their_own_items(team):
    cid = team["cid"]
    _task(cid, advisor_id=team["staff"])
    _task(cid, advisor_id=team["manager"])
    with chapter_scope(cid):
        mine = service.today_list(assignee_id=team["staff"])
        everyone = service.today_list(assignee_id=None)
    assert sum(map(len, mine.values())) == 1 and sum(map(len, everyone.values())) == 2


def test_team_completion_and_daily_report(team):
    cid = team["cid"]
    done = _task(cid, advisor_id=team["staff"])
    _task(cid, advisor_id=team["staff"], due_on=TODAY - timedelta(days=1))
    with chapter_scope(cid):
        service.record_outcome(db.session.get(CareTask, done), "appointment_booked",
                               actor=Actor(team["staff"]))
        db.session.commit()
        [line] = service.team_completion(cid)
        report = service.daily_report(cid, TODAY)
    assert (line.open_today, line.overdue, line.done_today, line.completion) == (1, 1, 1, 50)
    assert report == [(team["staff"], "appointment_booked", 1)]


def test_the_monthly_plan_per_advisor(team):
    cid = team["cid"]
    s = team["staff"]
    month = date(2026, 6, 1)
    o1 = owner(cid, advisor_id=s, birthday=date(1980, 6, 20), is_vip=True)
    vehicle(cid, o1, delivery_date=date(2026, 5, 10))                     # last month's delivery
    o2 = owner(cid, advisor_id=s)
    vehicle(cid, o2, insurance_expiry=date(2026, 7, 5),                   # renewal next month
            delivery_date=date(2026, 3, 2))                               # at 3 months
    owner(cid, advisor_id=team["manager"], birthday=date(1990, 7, 1))     # not this month
    with chapter_scope(cid):
        plan = service.monthly_plan(cid, month)
    assert plan == {s: {"deliveries_last_month": 1, "renewals_next_month": 1,
                        "birthdays_this_month": 1, "owners_at_3_months": 1, "vips": 1}}


def test_hq_sees_completion_per_chapter_and_region(team, two_chapters):
    a, b = team["cid"], two_chapters["b"].id
    done = _task(a)
    _task(a)
    _task(b)
    with chapter_scope(a):
        service.record_outcome(db.session.get(CareTask, done), "reached")
        db.session.commit()
    db.session.remove()
    lines = service.hq_completion(TODAY, TODAY)
    by_chapter = {line["chapter_id"]: (line["due"], line["done"], line["rate"]) for line in lines}
    assert by_chapter == {a: (2, 1, 50), b: (1, 0, 0)}
    regions = service.hq_completion_by_region(lines)
    assert sum(r["due"] for r in regions) == 3


def test_an_hq_user_is_not_an_assignee(team):
    user_id = make_user("hq_admin").id
    with chapter_scope(team["cid"]), pytest.raises(DomainError):
        service.add_task(chapter_id=team["cid"], owner_id=owner(team["cid"]), reason="x",
                         due_on=TODAY, source_key="y", assignee_id=user_id)
