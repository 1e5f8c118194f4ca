"""The closing job: no-shows and attendance points after events, once, even when re-run."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.events import jobs as event_jobs
from clubplatform import jobs
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.tenancy import unscoped
from hq.points.models import PointEntry
from tests.chapter.events.factories import load_registration, make_event, register
from tests.factories import make_member
from tests.hq.points.factories import make_rule


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _ended_event_with_an_attendee_and_a_no_show(chapter):
    starts = utcnow() - timedelta(hours=6)
    event_id = make_event(chapter, starts_at=starts, ends_at=starts + timedelta(hours=2),
                          rsvp_deadline=starts - timedelta(days=1))
    came = register(chapter, event_id, make_member(chapter).id, now=starts - timedelta(days=2))
    away = register(chapter, event_id, make_member(chapter).id, now=starts - timedelta(days=2))
    from clubplatform.tenancy import chapter_scope

    with chapter_scope(chapter.id):
        load_registration(chapter, came).checked_in_at = starts  # points not handed over yet
        db.session.commit()
    return came, away


def test_the_fan_out_closes_each_chapters_events_once(app, two_chapters):
    make_rule("attendance", 40)
    came_a, away_a = _ended_event_with_an_attendee_and_a_no_show(two_chapters["a"])
    _ended_event_with_an_attendee_and_a_no_show(two_chapters["b"])
    db.session.rollback()
    jobs.submit(event_jobs.close_events_all, name="events-close-all", chapter_id=None)
    _work(app)
    _work(app)
    # a second run of the day (rq cron twice, or a retry) changes nothing
    run = jobs.submit(event_jobs.close_events, name="events-close", chapter_id=two_chapters["a"].id)
    _work(app)
    db.session.expire_all()
    assert db.session.get(JobRun, run.id).status == "finished"
    with unscoped("test"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(PointEntry)
                                  .where(PointEntry.reason == "attendance")).scalar_one() == 2
    assert load_registration(two_chapters["a"], away_a).no_show
    assert load_registration(two_chapters["a"], came_a).points_recorded_at is not None
