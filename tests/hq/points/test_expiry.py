"""Monthly expiry: oldest points first, one entry per member, never twice."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points import expiry, ledger
from hq.points.models import PointEntry
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import award, make_rule


def _work(app):
    """Run queued jobs (with Redis); without it they already ran inline."""
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _expire_entries(member_id: int) -> list[PointEntry]:
    return list(db.session.execute(
        sa.select(PointEntry).where(PointEntry.member_id == member_id,
                                    PointEntry.kind == "expire")).scalars())


def _run(on: date, **kw):
    with unscoped("test"):
        result = expiry.expire_month(on, **kw)
        db.session.commit()
    return result


def _redeem(member_id, chapter_id, points, on):
    with unscoped("test"):
        ledger.post(member_id=member_id, chapter_id=chapter_id, kind="redeem",
                    reason="dealer_service", venue="dealer", points=-points,
                    idempotency_key=f"r-{member_id}-{on}", business_date=on)
        db.session.commit()


def test_points_earned_24_months_ago_expire_at_the_month_end(app):
    chapter = make_chapter()
    member = make_member(chapter)
    make_rule("point_value", 100)
    award(member.id, chapter.id, 300, on=date(2024, 1, 10))
    award(member.id, chapter.id, 200, on=date(2024, 2, 10))
    result = _run(date(2026, 1, 31))
    assert (result.entries, result.points) == (1, 300)
    with unscoped("test"):
        assert ledger.balance(member.id) == 200 == ledger.ledger_sum(member.id)
        [entry] = _expire_entries(member.id)
    assert entry.points == -300
    assert entry.value_fen == -300
    assert entry.idempotency_key == f"expire:{member.id}:2026-01-31"
    assert entry.chapter_id == chapter.id
    assert entry.business_date == date(2026, 1, 31)


def test_redemptions_use_the_oldest_points_first(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 300, on=date(2024, 1, 10))
    award(member.id, chapter.id, 200, on=date(2024, 6, 10))
    _redeem(member.id, chapter.id, 250, date(2025, 5, 1))
    result = _run(date(2026, 1, 31))
    assert result.points == 50
    with unscoped("test"):
        assert ledger.balance(member.id) == 200


def test_a_second_run_writes_nothing(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 300, on=date(2024, 1, 10))
    _run(date(2026, 1, 31))
    again = _run(date(2026, 1, 31))
    assert (again.entries, again.points) == (0, 0)
    with unscoped("test"):
        assert len(_expire_entries(member.id)) == 1
        assert ledger.balance(member.id) == 0


def test_a_run_killed_after_some_members_and_run_again_expires_nothing_twice(app):
    chapter = make_chapter()
    members = [make_member(chapter) for _ in range(3)]
    for m in members:
        award(m.id, chapter.id, 100, on=date(2024, 1, 10))

    class Killed(Exception):
        pass

    def kill_after_first_chunk(done, total):
        db.session.commit()  # what the job does after each chunk
        raise Killed

    with unscoped("test"):
        try:
            expiry.expire_month(date(2026, 1, 31), chunk=1, after_chunk=kill_after_first_chunk)
        except Killed:
            db.session.rollback()
    rerun = _run(date(2026, 1, 31), chunk=1)
    assert rerun.entries == 2
    with unscoped("test"):
        for m in members:
            assert len(_expire_entries(m.id)) == 1
            assert ledger.balance(m.id) == 0 == ledger.ledger_sum(m.id)


def test_members_with_nothing_expiring_get_no_entry(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 300, on=date(2025, 1, 10))
    result = _run(date(2026, 1, 31))
    assert result.entries == 0
    with unscoped("test"):
        assert _expire_entries(member.id) == []


def test_the_expire_entry_is_booked_at_the_members_current_chapter(app):
    a, b = make_chapter(), make_chapter()
    member = make_member(a)
    award(member.id, a.id, 100, on=date(2024, 1, 10))
    with unscoped("test"):
        db.session.execute(sa.text("UPDATE members SET chapter_id = :b WHERE id = :m"),
                           {"b": b.id, "m": member.id})
        db.session.commit()
    _run(date(2026, 1, 31))
    with unscoped("test"):
        [entry] = _expire_entries(member.id)
    assert entry.chapter_id == b.id


def test_members_see_what_expires_next(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 100, on=date(2024, 1, 10))
    award(member.id, chapter.id, 40, on=date(2024, 3, 10))
    _run(date(2026, 1, 31))
    with unscoped("test"):
        nxt = ledger.next_expiry(member.id, today=date(2026, 2, 1))
    assert (nxt.on, nxt.points) == (date(2026, 3, 31), 40)


def test_the_expire_command_runs_the_job_for_a_month(app, runner):
    chapter = make_chapter()
    member = make_member(chapter)
    member_id = member.id
    award(member_id, chapter.id, 100, on=date(2024, 1, 10))
    result = runner.invoke(args=["points", "expire", "--month", "2026-01"])
    assert result.exit_code == 0, result.output
    assert "points-expire-hq-" in result.output
    _work(app)
    with unscoped("test"):
        assert ledger.balance(member_id) == 0
