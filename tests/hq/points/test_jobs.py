"""Points jobs: registered, tracked, idempotent; parallel expiry runs expire once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.tenancy import unscoped
from hq.points import expiry, ledger
from hq.points import jobs as points_jobs
from hq.points.models import PointEntry
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import award, make_rule


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_the_points_jobs_can_be_run_by_name(app):
    assert {"points-expire", "points-tiers", "points-birthdays"} <= set(
        app.extensions["clubplatform_jobs"])


def test_the_schedule_runs_expiry_and_tiers_monthly_and_birthdays_daily():
    import importlib

    from rq import cron

    cron._job_data_registry.clear()
    importlib.reload(importlib.import_module("clubplatform.schedule"))
    table = {d["name"]: d for d in cron._job_data_registry}
    # 01:00 Asia/Shanghai on the 1st = 17:00 UTC on the last day of the month before
    assert table["points-expire"]["cron"] == "0 17 L * *"
    assert table["points-tiers"]["cron"] == "0 17 L * *"
    assert table["points-birthdays"]["cron"] == "0 0 * * *"  # 08:00 Asia/Shanghai


def test_the_month_argument_names_the_month_end():
    assert points_jobs.parse_month("2026-02") == date(2026, 2, 28)
    assert expiry.last_month_end(date(2026, 3, 1)) == date(2026, 2, 28)


def test_the_tier_job_is_tracked_and_a_second_run_changes_nothing(app):
    make_rule("tier_threshold", 100, key="gold")
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 150, on=date(2026, 3, 5), reason="service")
    first = jobs.submit(points_jobs.recompute_tiers, "2026-03", name="points-tiers",
                        chapter_id=None)
    _work(app)
    second = jobs.submit(points_jobs.recompute_tiers, "2026-03", name="points-tiers",
                         chapter_id=None)
    _work(app)
    db.session.expire_all()
    assert db.session.get(JobRun, first.id).result["changed"] == 1
    assert db.session.get(JobRun, second.id).result["changed"] == 0


def test_the_birthday_command_gives_the_days_gifts(app, runner):
    make_rule("birthday", 500)
    chapter = make_chapter()
    member = make_member(chapter)
    member_id = member.id
    with unscoped("test"):
        db.session.execute(sa.text("UPDATE members SET birthday = :b WHERE id = :m"),
                           {"b": date(1990, 6, 15), "m": member_id})
        db.session.commit()
    result = runner.invoke(args=["points", "birthdays", "--date", "2026-06-15"])
    assert result.exit_code == 0, result.output
    _work(app)
    with unscoped("test"):
        assert ledger.balance(member_id) == 500


@pytest.mark.postgres
def test_parallel_expiry_runs_expire_each_members_points_once(app):
    chapter = make_chapter()
    members = [make_member(chapter) for _ in range(3)]
    for m in members:
        award(m.id, chapter.id, 100, on=date(2024, 1, 10))
    ids = [m.id for m in members]
    barrier = threading.Barrier(4, timeout=30)
    errors = []

    def run():
        with app.app_context():
            try:
                with unscoped("test race"):
                    barrier.wait()
                    expiry.expire_month(date(2026, 1, 31))
                    db.session.commit()
            except Exception as exc:  # any failure breaks the invariant
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with unscoped("test"):
        for mid in ids:
            assert ledger.balance(mid) == 0 == ledger.ledger_sum(mid)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry)
                                 .where(PointEntry.kind == "expire")) == 3
