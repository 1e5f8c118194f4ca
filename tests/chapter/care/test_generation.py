"""The nightly care list: idempotent, caught up after missed nights, fanned out per chapter."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from chapter.care import jobs as care_jobs
from chapter.care import service
from chapter.care.models import CareRun, CareTask
from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.care.factories import generate, owner, tasks, vehicle, visit
from tests.factories import make_chapter


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _busy_chapter(cid: int, day: date) -> None:
    """Owners due on ``day`` by every rule."""
    o = owner(cid, birthday=day.replace(year=1980), is_vip=True)
    v = vehicle(cid, o, delivery_date=day - timedelta(days=2),
                insurance_expiry=day + timedelta(days=30),
                next_inspection_on=day + timedelta(days=30))
    visit(cid, o, v, day - timedelta(days=3))
    o2 = owner(cid)
    vehicle(cid, o2, delivery_date=day.replace(year=day.year - 2))


def test_running_the_same_day_twice_adds_nothing(chapter_id):
    day = date(2026, 6, 10)
    _busy_chapter(chapter_id, day)

    first = generate(chapter_id, day)
    second = generate(chapter_id, day)

    assert first.tasks_added == 8
    assert second.tasks_added == 0
    assert len(tasks(chapter_id)) == 8


def test_the_job_catches_up_missed_days_without_duplicating(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2026, 6, 1))  # day 2 = 3 June
    generate(chapter_id, date(2026, 6, 1))

    result = care_jobs.generate(chapter_id, "2026-06-05")  # the 2nd, 3rd and 4th were missed
    again = care_jobs.generate(chapter_id, "2026-06-05")

    assert result["days"] == ["2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05"]
    assert again["tasks_added"] == 0
    assert tasks(chapter_id) == [(o, "delivery_day", 2, date(2026, 6, 3))]
    with chapter_scope(chapter_id):
        days = db.session.execute(sa.select(CareRun.day).order_by(CareRun.day)).scalars().all()
    assert days == [date(2026, 6, d) for d in range(1, 6)]


def test_a_first_run_generates_only_today(chapter_id):
    with chapter_scope(chapter_id):
        assert service.days_to_generate(chapter_id, date(2026, 6, 5)) == [date(2026, 6, 5)]


def test_catch_up_is_limited_to_a_month(chapter_id):
    generate(chapter_id, date(2026, 1, 1))
    with chapter_scope(chapter_id):
        days = service.days_to_generate(chapter_id, date(2026, 6, 5))
    assert len(days) == service.CATCH_UP_DAYS and days[-1] == date(2026, 6, 5)


def test_the_fan_out_submits_one_job_per_chapter_and_day_once(app, two_chapters):
    a, b = two_chapters["a"].id, two_chapters["b"].id
    day = date(2026, 6, 10)
    _busy_chapter(a, day)
    _busy_chapter(b, day)

    care_jobs.generate_all(None, day.isoformat())
    care_jobs.generate_all(None, day.isoformat())  # rq cron fired twice
    _work(app)

    db.session.remove()
    runs = db.session.execute(
        sa.select(JobRun.id).where(JobRun.name == "care-list").order_by(JobRun.id)).scalars().all()
    assert runs == [f"care-list-c{a}-2026-06-10", f"care-list-c{b}-2026-06-10"]
    with unscoped("test: both chapters"):
        counts = dict(db.session.execute(
            sa.select(CareTask.chapter_id, sa.func.count()).group_by(CareTask.chapter_id)).all())
    assert counts == {a: 8, b: 8}


def test_closed_chapters_are_not_fanned_out(db):
    open_one = make_chapter()
    closed = make_chapter()
    closed.closed_on = date(2026, 1, 1)
    db.session.commit()
    assert care_jobs.open_chapter_ids(date(2026, 6, 1)) == [open_one.id]


def test_the_job_is_registered_with_rq_cron():
    import clubplatform.schedule

    source = Path(clubplatform.schedule.__file__).read_text(encoding="utf-8")
    assert 'import_job_function("chapter.care.jobs.generate_all")' in source
    assert 'cron="30 16 * * *", name="care-list"' in source  # 00:30 Asia/Shanghai


@pytest.mark.postgres
def test_two_workers_generating_the_same_day_at_once_add_each_task_once(app, chapter_id):
    day = date(2026, 6, 10)
    for _ in range(10):
        _busy_chapter(chapter_id, day)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def worker():
        try:
            with app.app_context(), chapter_scope(chapter_id):
                barrier.wait()
                service.generate_day(chapter_id, day, greet=False)
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert len(tasks(chapter_id)) == 80
