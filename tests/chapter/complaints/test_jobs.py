"""The escalation job: per chapter, fanned out with deterministic ids, idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.complaints import jobs as complaint_jobs
from clubplatform import jobs
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from tests.chapter.complaints.factories import load, make_complaint


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _late(chapter):
    received = utcnow() - timedelta(hours=5)
    return make_complaint(chapter, now=received, callback_due_at=received + timedelta(hours=1))


def test_the_chapter_job_escalates_its_chapter_only(app, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    late_a, late_b = _late(a), _late(b)
    run = jobs.submit(complaint_jobs.escalate_complaints, name=complaint_jobs.NAME,
                      chapter_id=a.id)
    _work(app)
    db.session.expire_all()
    run = db.session.get(JobRun, run.id)
    assert (run.status, run.result["promise_missed"]) == ("finished", 1)
    assert load(a, late_a.id).escalation_reason == "promise_missed"
    assert load(b, late_b.id).escalated_at is None


def test_the_fan_out_submits_one_job_per_chapter_once_an_hour(app, two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    late_a, late_b = _late(a), _late(b)
    complaint_jobs.escalate_all_chapters(None)
    _work(app)
    complaint_jobs.escalate_all_chapters(None)  # the same hour again: nothing new
    _work(app)
    db.session.expire_all()
    runs = db.session.execute(sa.select(JobRun.id, JobRun.chapter_id, JobRun.status).where(
        JobRun.name == complaint_jobs.NAME)).all()
    assert sorted(r.chapter_id for r in runs) == sorted([a.id, b.id])
    assert all(r.id.startswith(f"complaints-escalate-c{r.chapter_id}-") for r in runs)
    assert all(r.status == "finished" for r in runs)
    assert load(a, late_a.id).escalated_at is not None
    assert load(b, late_b.id).escalated_at is not None


def test_the_job_is_registered_for_flask_jobs_run(app):
    assert app.extensions["clubplatform_jobs"]["complaints-escalate"] is \
        complaint_jobs.escalate_complaints


def test_the_fan_out_is_scheduled_hourly():
    import importlib

    from rq import cron

    cron._job_data_registry.clear()
    importlib.reload(importlib.import_module("clubplatform.schedule"))
    entry = next(d for d in cron._job_data_registry if d["name"] == "complaints-escalate")
    assert entry["cron"] == "5 * * * *"
    assert entry["func"] is complaint_jobs.escalate_all_chapters
