"""Background jobs: tenant-bearing ids, scope, bookkeeping, worker, page, CLI, schedule."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from clubplatform import jobs
from clubplatform.db import utcnow
from clubplatform.jobs.models import JobRun
from tests.factories import make_chapter, make_region, make_user
from tests.platform import jobs_for_tests


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _reload(db, run_id) -> JobRun:
    db.session.expire_all()
    return db.session.get(JobRun, run_id)


def test_job_id_carries_the_tenant():
    assert jobs.make_job_id("care.list", 12, "2026-05-01") == "care_list-c12-2026-05-01"
    assert jobs.make_job_id("org.import", None, "x").startswith("org_import-hq-")


def test_chapter_job_runs_inside_its_chapters_scope(app, db):
    chapter = make_chapter()
    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=chapter.id)
    _work(app)
    run = _reload(db, run.id)
    assert run.status == "finished"
    assert run.result == {"scope": chapter.id, "chapter_id": chapter.id}


def test_hq_job_runs_with_no_scope_even_when_started_from_a_chapter_request(app, db):
    from clubplatform.tenancy import chapter_scope

    chapter = make_chapter()
    with chapter_scope(chapter.id):
        run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)
    _work(app)
    assert _reload(db, run.id).result["scope"] is None


def test_submitting_the_same_key_twice_runs_once(app, db):
    chapter = make_chapter()
    first = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=chapter.id,
                        key="2026-05-01")
    second = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=chapter.id,
                         key="2026-05-01")
    _work(app)
    assert first.id == second.id
    assert db.session.execute(sa.select(sa.func.count()).select_from(JobRun)).scalar_one() == 1
    assert _reload(db, first.id).attempts == 1


def test_failed_job_is_marked_failed_with_its_reason(app, db):
    run = jobs.submit(jobs_for_tests.always_fails, name="test.fail", chapter_id=None, retry=None)
    _work(app)
    run = _reload(db, run.id)
    assert run.status == "failed" and "partner system is down" in run.message


@pytest.mark.redis
def test_failing_job_is_retried_before_it_is_marked_failed(app, db):
    from rq import Retry

    run = jobs.submit(jobs_for_tests.always_fails, name="test.fail", chapter_id=None,
                      retry=Retry(max=2))
    _work(app)
    run = _reload(db, run.id)
    assert run.attempts == 3 and run.status == "failed"


@pytest.mark.redis
def test_progress_is_kept_in_the_rq_job_meta(app, db):
    from rq.job import Job

    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)
    assert _reload(db, run.id).status == "queued"
    _work(app)
    meta = Job.fetch(run.id, connection=jobs.redis_connection(app)).get_meta()
    assert meta["progress"] == 100 and meta["total"] == 2


@pytest.mark.redis
def test_flask_jobs_worker_command_runs_a_queued_import(app, db):
    """A real forking RQ worker process, started with the project's command."""
    from clubplatform.org.jobs import import_dealers
    from clubplatform.org.models import Dealer

    make_region("BJ")
    run = jobs.submit(import_dealers, name="org.import_dealers", chapter_id=None,
                      input_file=("d.csv", "text/csv", "code,name,region\nBJ-77,测试,BJ\n".encode()))
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], SECRET_KEY="worker-test",
               FIELD_ENCRYPTION_KEY="worker-test", FIELD_INDEX_KEY="worker-test")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _reload(db, run.id).status == "finished"
    assert db.session.execute(sa.select(Dealer.code)).scalars().all() == ["BJ-77"]


def test_jobs_page_shows_a_progress_bar_while_a_job_waits(client, db, login_as):
    chapter = make_chapter()
    staff = make_user("chapter_staff", chapter=chapter)
    db.session.add(JobRun(id="x-c1-1", name="org.import_dealers", chapter_id=chapter.id,
                          user_id=staff.id, status="queued"))
    db.session.commit()
    login_as(staff)
    page = client.get("/jobs/x-c1-1").get_data(as_text=True)
    assert "data-job-status-url" in page and "<progress" in page
    status = client.get("/jobs/x-c1-1/status").get_json()
    assert status["status"] == "queued" and status["progress"] == 0


def test_chapter_staff_do_not_see_hq_jobs(client, db, login_as):
    chapter = make_chapter()
    db.session.add(JobRun(id="hq-job-1", name="org.import_dealers", chapter_id=None,
                          status="finished"))
    db.session.commit()
    login_as(make_user("chapter_staff", chapter=chapter))
    assert client.get("/jobs/hq-job-1").status_code == 404
    assert "hq-job-1" not in client.get("/jobs/").get_data(as_text=True)


def test_flask_jobs_run_starts_a_registered_job(app, db, runner):
    from datetime import timedelta

    from clubplatform.db import utcnow

    db.session.add(JobRun(id="old-1", name="x", status="finished",
                          created_at=utcnow() - timedelta(days=400)))
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "purge-job-runs"])
    assert result.exit_code == 0, result.output
    _work(app)
    db.session.expire_all()
    names = db.session.execute(sa.select(JobRun.name, JobRun.status)).all()
    assert names == [("purge-job-runs", "finished")]


def test_flask_jobs_run_refuses_an_unknown_job(runner, db):
    result = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert result.exit_code != 0 and "unknown job" in result.output


def test_schedule_registers_the_recurring_jobs_with_rq_cron():
    import importlib

    from rq import cron

    cron._job_data_registry.clear()
    importlib.reload(importlib.import_module("clubplatform.schedule"))
    crons = {d["name"]: d.get("cron") for d in cron._job_data_registry}
    assert "purge-job-runs" in crons
    assert crons["jobs-requeue"] == "* * * * *"


# ------------------------------------------------------- jobs submitted while Redis is down
def _unreachable_redis_url() -> str:
    with socket.socket() as s:  # a port nothing listens on once the socket is closed
        s.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{s.getsockname()[1]}/0"


@pytest.fixture
def redis_down(app, monkeypatch):
    """Jobs go to a Redis that cannot be reached (connection refused) during the test."""
    monkeypatch.setitem(app.config, "REDIS_URL", _unreachable_redis_url())


def _submit_while_redis_is_down(app, monkeypatch, func=jobs_for_tests.report_scope, *args,
                                chapter_id=None, age=timedelta(minutes=1)) -> str:
    """Submit with Redis unreachable; the run is made ``age`` old (the sweeper's minimum)."""
    with monkeypatch.context() as m:
        m.setitem(app.config, "REDIS_URL", _unreachable_redis_url())
        run_id = jobs.submit(func, *args, name="test.outage", chapter_id=chapter_id).id
    from clubplatform.extensions import db

    db.session.execute(sa.update(JobRun).where(JobRun.id == run_id)
                       .values(created_at=utcnow() - age))
    db.session.commit()
    return run_id


def test_job_submitted_while_redis_is_down_waits_for_the_job_queue(app, db, redis_down):
    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)

    run = _reload(db, run.id)
    assert (run.status, run.enqueued_at, run.attempts) == ("queued", None, 0)


def test_starting_an_import_while_redis_is_down_shows_it_waiting_for_the_job_queue(
        client, db, login_as, redis_down):
    make_region("BJ")
    login_as(make_user("hq_admin", locale="en"))

    r = client.post("/hq/org/dealers/import", content_type="multipart/form-data",
                    data={"file": (io.BytesIO("code,name,region\nBJ-77,测试,BJ\n".encode()),
                                   "dealers.csv")})

    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    assert page.status_code == 200
    assert "Waiting for the job queue" in page.get_data(as_text=True)


def test_sweep_leaves_a_run_submitted_moments_ago_to_its_submit(app, db, monkeypatch):
    run_id = _submit_while_redis_is_down(app, monkeypatch, age=timedelta(0))

    assert jobs.requeue_pending() == 0
    assert _reload(db, run_id).enqueued_at is None


@pytest.mark.redis
def test_job_submitted_while_redis_is_down_runs_once_after_it_returns(app, db, monkeypatch):
    from rq.job import Job

    chapter = make_chapter()
    run_id = _submit_while_redis_is_down(app, monkeypatch, jobs_for_tests.echo_args, "2026-05",
                                         {"mobile": 3}, chapter_id=chapter.id)

    assert jobs.requeue_pending() == 1
    assert jobs.requeue_pending() == 0
    assert jobs.get_queue(app).count == 1
    assert Job.fetch(run_id, connection=jobs.redis_connection(app)).retries_left == 3
    _work(app)
    run = _reload(db, run_id)
    assert (run.status, run.attempts) == ("finished", 1)
    assert run.result == {"chapter_id": chapter.id, "text": "2026-05", "mapping": {"mobile": 3}}


@pytest.mark.redis
def test_sweep_does_not_enqueue_again_a_run_that_reached_the_queue(app, db):
    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)
    # as if the submit had stopped between the enqueue and recording it
    db.session.execute(sa.update(JobRun).where(JobRun.id == run.id).values(
        enqueued_at=None, created_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()

    assert jobs.requeue_pending() == 0
    assert jobs.get_queue(app).count == 1
    _work(app)
    run = _reload(db, run.id)
    assert (run.status, run.attempts) == ("finished", 1) and run.enqueued_at is not None


@pytest.mark.redis
def test_job_lost_with_redis_data_is_enqueued_again_once(app, db):
    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)
    jobs.get_queue(app).connection.flushdb()  # Redis restarted and kept nothing
    db.session.execute(sa.update(JobRun).where(JobRun.id == run.id).values(
        enqueued_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()

    assert jobs.requeue_pending() == 1
    assert jobs.requeue_pending() == 0
    assert jobs.get_queue(app).count == 1
    _work(app)
    assert (_reload(db, run.id).status, _reload(db, run.id).attempts) == ("finished", 1)


@pytest.mark.redis
def test_sweep_leaves_a_queued_job_redis_still_has(app, db):
    run = jobs.submit(jobs_for_tests.report_scope, name="test.scope", chapter_id=None)
    db.session.execute(sa.update(JobRun).where(JobRun.id == run.id).values(
        enqueued_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()

    assert jobs.requeue_pending() == 0
    assert jobs.get_queue(app).count == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_sweep_skips_a_run_another_sweeper_holds(app, db, monkeypatch):
    run_id = _submit_while_redis_is_down(app, monkeypatch)

    with db.engine.connect() as other_sweeper:
        other_sweeper.execute(sa.select(JobRun.id).where(JobRun.id == run_id).with_for_update())
        assert jobs.requeue_pending() == 0
        other_sweeper.rollback()
    assert jobs.requeue_pending() == 1


@pytest.mark.redis
def test_flask_jobs_worker_runs_what_waited_for_redis_when_it_starts(app, db, monkeypatch):
    run_id = _submit_while_redis_is_down(app, monkeypatch)
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=app.config["REDIS_URL"], SECRET_KEY="worker-test",
               FIELD_ENCRYPTION_KEY="worker-test", FIELD_INDEX_KEY="worker-test")

    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--burst"],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    run = _reload(db, run_id)
    assert (run.status, run.attempts) == ("finished", 1)


def test_flask_jobs_run_starts_the_requeue_sweep(app, db, runner):
    result = runner.invoke(args=["jobs", "run", "jobs-requeue"])

    assert result.exit_code == 0, result.output
    _work(app)
    db.session.expire_all()
    assert db.session.execute(sa.select(JobRun.name, JobRun.status)).all() == [
        ("jobs-requeue", "finished")]
