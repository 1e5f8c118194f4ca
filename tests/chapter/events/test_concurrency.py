"""Capacity, the waitlist and attendance points hold under concurrency (PostgreSQL, threads)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.events import service
from chapter.events.models import EventRegistration
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.points.models import PointEntry
from tests.chapter.events.factories import make_event, make_event_today, register
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import make_rule

pytestmark = pytest.mark.postgres

THREADS = 100
#: connections shared by the threads (the server's max_connections is shared with other
#: test runs): the threads still race, each waits for a connection, then for the lock
POOL = 20


@pytest.fixture
def wide_pool(app):
    original = db.engines[None]
    wide = sa.create_engine(original.url, pool_size=POOL, max_overflow=0, pool_timeout=300,
                            connect_args={"options": "-c lock_timeout=60000 -c timezone=UTC"})
    db.engines[None] = wide
    yield
    db.session.remove()
    db.engines[None] = original
    wide.dispose()


def _race(app, chapter_id, n, work):
    """Run ``work(i)`` in ``n`` threads released together; each commits its own transaction.

    Returns the outcomes and the order in which the threads got the event's lock (the
    commit order of a serialised section is the order its ``rsvp_seq`` was taken).
    """
    barrier = threading.Barrier(n, timeout=60)
    outcomes = [None] * n

    def run(i):
        with app.app_context():
            try:
                with chapter_scope(chapter_id):
                    barrier.wait()
                    result = work(i)
                    db.session.commit()
                outcomes[i] = ("ok", result)
            except Exception as exc:  # anything else breaks an invariant
                db.session.rollback()
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return outcomes


def _registrations(chapter_id, event_id):
    with chapter_scope(chapter_id):
        rows = db.session.execute(
            sa.select(EventRegistration.member_id, EventRegistration.status,
                      EventRegistration.seq)
            .where(EventRegistration.event_id == event_id)
            .execution_options(populate_existing=True)).all()
    db.session.rollback()
    return rows


def test_a_hundred_parallel_rsvps_for_thirty_seats_register_thirty_in_arrival_order(
        app, wide_pool):
    chapter = make_chapter()
    event_id = make_event(chapter, capacity=30)
    members = [make_member(chapter).id for _ in range(THREADS)]
    db.session.rollback()

    outcomes = _race(app, chapter.id, THREADS,
                     lambda i: service.rsvp(event_id, members[i]).registration.status)

    assert [o for o in outcomes if o[0] != "ok"] == []
    rows = _registrations(chapter.id, event_id)
    by_seq = sorted(rows, key=lambda r: r.seq)
    assert sorted(r.seq for r in rows) == list(range(1, THREADS + 1))  # one arrival each
    assert [r.status for r in by_seq] == ["registered"] * 30 + ["waitlisted"] * 70
    assert sorted(s for _, s in outcomes).count("registered") == 30


def test_a_cancellation_promotes_exactly_one_and_a_double_cancel_changes_nothing(
        app, wide_pool):
    chapter = make_chapter()
    event_id = make_event(chapter, capacity=3)
    members = [make_member(chapter).id for _ in range(6)]
    regs = [register(chapter, event_id, m) for m in members]
    db.session.rollback()

    # the same registration cancelled 10 times at once, while 10 others RSVP
    late = [make_member(chapter).id for _ in range(10)]
    db.session.rollback()

    def work(i):
        if i < 10:
            return service.cancel_registration(regs[0])[1]
        return service.rsvp(event_id, late[i - 10]).registration.status

    outcomes = _race(app, chapter.id, 20, work)
    assert [o for o in outcomes if o[0] != "ok"] == []
    assert [r for _, r in outcomes[:10]].count(True) == 1  # cancelled once
    rows = {m: (s, q) for m, s, q in _registrations(chapter.id, event_id)}
    assert rows[members[0]][0] == "cancelled"
    assert rows[members[3]][0] == "registered"  # the first on the waitlist moved up
    assert [rows[m][0] for m in members[4:]] == ["waitlisted", "waitlisted"]
    assert sum(1 for s, _ in rows.values() if s == "registered") == 3


def test_attendance_points_once_under_parallel_check_ins_and_jobs(app, wide_pool):
    make_rule("attendance", 60)
    chapter = make_chapter()
    event_id = make_event_today(chapter)
    member_id = make_member(chapter).id
    registration_id = register(chapter, event_id, member_id, now=utcnow() - timedelta(days=3))
    db.session.rollback()

    def work(i):
        event = service.get_event(event_id)
        if i % 2:
            return service.check_in(event, service.get_registration(registration_id)).newly
        return service.award_attendance(event, service.get_registration(registration_id))

    _race(app, chapter.id, 1, work)  # checked in once first
    outcomes = _race(app, chapter.id, 20, work)
    assert [o for o in outcomes if o[0] != "ok"] == []
    with unscoped("test"):
        entries = db.session.execute(
            sa.select(PointEntry.points).where(PointEntry.member_id == member_id,
                                               PointEntry.reason == "attendance")).all()
    assert entries == [(60,)]
