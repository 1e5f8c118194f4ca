"""Background jobs: one way to submit, run and follow them.

- :func:`submit` (called at the edge, after the edge's own work) records a
  :class:`~clubplatform.jobs.models.JobRun`, commits, and enqueues the job.
- Without ``REDIS_URL`` the job runs inline, in-process, before ``submit`` returns;
  with it, an RQ worker runs it (``flask jobs worker``).
- If Redis cannot be reached when a job is submitted, the run is kept (queued, with no
  ``enqueued_at``) and :func:`requeue_pending` enqueues it once Redis is back: every
  minute from ``rq cron`` (``jobs-requeue``) and when ``flask jobs worker`` starts.
- Job functions are module-level functions decorated with :func:`tracked`; their first
  argument is ``chapter_id`` (or ``None`` for HQ jobs). The decorator opens a fresh
  application context (so a fresh session), the tenant scope, keeps the JobRun row
  up to date and puts progress in ``job.meta``.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job

from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.jobs.models import FAILED, FINISHED, QUEUED, STARTED, JobFile, JobRun
from clubplatform.observability import observe_job
from clubplatform.tenancy import chapter_scope, reset_scope, set_request_scope

log = logging.getLogger(__name__)

DEFAULT_RETRY = Retry(max=3, interval=[10, 60, 300])
#: what :func:`submit` catches when Redis cannot be reached: the run waits for the sweeper
REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
#: a run younger than this is left to the :func:`submit` that is enqueueing it
REQUEUE_AFTER = timedelta(seconds=15)
#: a run enqueued this long ago and still queued is checked against RQ: if Redis lost it
#: (a restart of a Redis that keeps nothing on disk), it is enqueued again
LOST_AFTER = timedelta(minutes=2)

_fake_redis = None
_worker_app = None
_worker_pid: int = os.getpid()


def redis_connection(app=None):
    """Return the Redis connection for jobs, or None in the embedded (inline) mode."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    ext = app.extensions.setdefault("clubplatform_redis", {})
    if url not in ext:
        from redis import Redis

        ext[url] = Redis.from_url(url)
    return ext[url]


def get_queue(app=None) -> Queue:
    """The job queue: real RQ with ``REDIS_URL``, otherwise an inline queue."""
    global _fake_redis
    app = app or current_app
    conn = redis_connection(app)
    name = app.config["JOB_QUEUE"]
    if conn is not None:
        return Queue(name, connection=conn)
    if _fake_redis is None:
        import fakeredis

        _fake_redis = fakeredis.FakeStrictRedis()
    return Queue(name, is_async=False, connection=_fake_redis)


def make_job_id(name: str, chapter_id: int | None, key: str | None = None) -> str:
    """A job id that carries the tenant: ``care_list-c12-2026-05-01`` or ``…-hq-…``.

    RQ accepts letters, digits, underscores and dashes only.
    """
    tenant = f"c{chapter_id}" if chapter_id is not None else "hq"
    raw = f"{name}-{tenant}-{key or uuid.uuid4().hex}"
    return re.sub(r"[^A-Za-z0-9_-]", "_", raw)


def submit(
    func: Callable,
    *args: Any,
    name: str,
    chapter_id: int | None,
    user_id: int | None = None,
    key: str | None = None,
    input_file: tuple[str, str, bytes] | None = None,
    retry: Retry | None = DEFAULT_RETRY,
    timeout: int = 3600,
) -> JobRun:
    """Record a job run, commit, then enqueue ``func(chapter_id, *args)``.

    Called at the edge (view, API handler, CLI, scheduler fan-out): it commits the
    session, so call it after the edge's own work. ``args`` are JSON primitives (they
    are kept with the run). ``input_file`` is ``(filename, content_type, bytes)``
    stored with the run for the job to read. ``key`` makes the id deterministic (a
    scheduled run per chapter and day); a second submit with the same key returns the
    existing run instead of a new one.

    If Redis cannot be reached, the run is returned all the same, queued and not yet
    enqueued (``enqueued_at`` None): :func:`requeue_pending` enqueues it once Redis is back.
    """
    job_id = make_job_id(name, chapter_id, key)
    existing = db.session.get(JobRun, job_id)
    if existing is not None:
        return existing
    run = JobRun(id=job_id, name=name, chapter_id=chapter_id, user_id=user_id, status=QUEUED,
                 function=f"{func.__module__}.{func.__qualname__}", args=list(args),
                 retry={"max": retry.max, "intervals": retry.intervals} if retry else None,
                 timeout=timeout)
    db.session.add(run)
    db.session.flush()  # the run row first: the file refers to it
    if input_file is not None:
        filename, content_type, content = input_file
        db.session.add(
            JobFile(job_id=job_id, kind="input", filename=filename,
                    content_type=content_type, content=content)
        )
    spec = _spec(run)
    db.session.commit()
    try:
        _enqueue(get_queue(), spec)
    except REDIS_UNREACHABLE as exc:
        log.warning("job %s waits for the job queue: Redis is unreachable (%s)", job_id, exc)
        return run
    _mark_enqueued(job_id)
    db.session.commit()
    db.session.expire(run)
    return run


def _spec(run: JobRun) -> dict:
    """What the queue needs of a run, read while the row is at hand."""
    return {"id": run.id, "name": run.name, "function": run.function,
            "chapter_id": run.chapter_id, "args": list(run.args or ()), "retry": run.retry,
            "timeout": run.timeout or 3600}


def _enqueue(queue: Queue, spec: dict) -> None:
    """Put a recorded run on the queue (same id, same function and arguments).

    With Redis the enqueue is unique: if the id is already there (another process put it
    there first) nothing is added. Inline, the job runs before this returns.
    """
    retry = spec["retry"]
    try:
        queue.enqueue(
            spec["function"],
            spec["chapter_id"],
            *spec["args"],
            job_id=spec["id"],
            retry=Retry(max=retry["max"], interval=retry["intervals"])
            if retry and queue.is_async else None,
            job_timeout=spec["timeout"],
            result_ttl=7 * 24 * 3600,
            failure_ttl=30 * 24 * 3600,
            description=spec["name"],
            **({"unique": True} if queue.is_async else {}),
        )
    except DuplicateJobError:
        log.info("job %s was already in the queue", spec["id"])


def _mark_enqueued(job_id: str) -> None:
    # a Core UPDATE of the one column: an inline job has already written the rest of the row
    db.session.execute(sa.update(JobRun).where(JobRun.id == job_id)
                       .values(enqueued_at=utcnow()))


def requeue_pending(min_age: timedelta = REQUEUE_AFTER,
                    lost_after: timedelta = LOST_AFTER) -> int:
    """Enqueue the queued runs that are not on the queue; return how many.

    Two kinds: a run submitted while Redis was unreachable (no ``enqueued_at``; older than
    ``min_age``, younger ones belong to the :func:`submit` enqueueing them), and a run
    enqueued more than ``lost_after`` ago that is still queued but that RQ no longer has
    (Redis lost its data: a restart of a server that keeps nothing on disk). Each is taken
    under a row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: a second sweeper skips it),
    enqueued with its own id and arguments unless RQ has that id, marked enqueued and
    committed, one at a time: a run is never on the queue twice. Stops at the first run
    Redis refuses.
    """
    queue = get_queue()
    now = utcnow()
    waiting = sa.and_(JobRun.enqueued_at.is_(None), JobRun.created_at < now - min_age)
    if queue.is_async:  # inline, an enqueued run has run: nothing can be lost
        waiting = sa.or_(waiting, JobRun.enqueued_at < now - lost_after)
    candidates = db.session.execute(
        sa.select(JobRun.id)
        .where(JobRun.status == QUEUED, JobRun.function.is_not(None), waiting)
        .order_by(JobRun.created_at)
    ).scalars().all()
    db.session.commit()
    enqueued = 0
    for job_id in candidates:
        run = db.session.execute(
            sa.select(JobRun).where(JobRun.id == job_id, JobRun.status == QUEUED)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if run is None:  # another sweeper has it, or it has gone on since
            db.session.commit()
            continue
        spec, lost = _spec(run), run.enqueued_at is not None
        try:
            if not queue.is_async:
                # inline the job runs inside the enqueue and writes its own row: mark
                # and commit first, so that this session holds no lock on it
                _mark_enqueued(job_id)
                db.session.commit()
                _enqueue(queue, spec)
            elif Job.exists(job_id, connection=queue.connection):
                if not lost:
                    log.info("job %s had reached the queue; marked enqueued", job_id)
                    _mark_enqueued(job_id)
                db.session.commit()  # on the queue: a worker will take it
                continue
            else:
                _enqueue(queue, spec)
                _mark_enqueued(job_id)
                db.session.commit()
        except REDIS_UNREACHABLE as exc:
            db.session.rollback()
            log.warning("Redis is still unreachable (%s): the waiting job runs stay queued",
                        exc)
            break
        enqueued += 1
        log.info("job %s enqueued %s", job_id,
                 "again: Redis had lost it" if lost else "after waiting for the job queue")
    return enqueued


def current_run_id() -> str | None:
    job = get_current_job()
    return job.id if job is not None else None


def report_progress(done: int, total: int, **meta: Any) -> None:
    """Save progress (0–100) in ``job.meta`` for the Jobs page to poll."""
    job = get_current_job()
    if job is None:
        return
    pct = 100 if total <= 0 else min(100, int(done * 100 / total))
    job.meta.update(meta, progress=pct, done=done, total=total)
    job.save_meta()


def read_input(job_id: str) -> JobFile:
    """Return the file uploaded with the job run."""
    f = db.session.execute(
        db.select(JobFile).filter_by(job_id=job_id, kind="input")
    ).scalar_one()
    return f


def save_file(job_id: str, kind: str, filename: str, content_type: str, content: bytes) -> None:
    """Store (or replace, on a retry) a file the job produced, e.g. its error report."""
    f = db.session.execute(
        db.select(JobFile).filter_by(job_id=job_id, kind=kind)
    ).scalar_one_or_none()
    if f is None:
        db.session.add(JobFile(job_id=job_id, kind=kind, filename=filename,
                               content_type=content_type, content=content))
    else:
        f.filename, f.content_type, f.content = filename, content_type, content


def _app():
    """The Flask app for a job: the current one, or one created once per worker process."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from clubplatform.app import create_app

        _worker_app = create_app()
    return _worker_app


def _fresh_connections_after_fork() -> None:
    # a forked work-horse must not reuse the parent's pooled connections
    # (SQLAlchemy's "using connection pools with multiprocessing" recipe)
    global _worker_pid
    if _worker_pid != os.getpid():
        _worker_pid = os.getpid()
        for engine in db.engines.values():  # the primary, and the read replica if any
            engine.dispose(close=False)


def tracked(func: Callable) -> Callable:
    """Decorate a job function: fresh session, tenant scope, JobRun bookkeeping."""

    @functools.wraps(func)
    def wrapper(chapter_id: int | None, *args: Any, **kwargs: Any) -> Any:
        app = _app()
        job = get_current_job()
        inline = job is None or (_fake_redis is not None and job.connection is _fake_redis)
        with app.app_context():
            if not inline:
                _fresh_connections_after_fork()
            token = set_request_scope(None)
            started = time.perf_counter()
            try:
                _mark(job, STARTED)
                try:
                    if chapter_id is None:
                        result = func(None, *args, **kwargs)
                    else:
                        with chapter_scope(int(chapter_id)):
                            result = func(chapter_id, *args, **kwargs)
                    db.session.commit()
                except Exception as exc:
                    db.session.rollback()
                    log.exception("job %s failed", job.id if job else func.__name__)
                    observe_job(func.__module__ + "." + func.__name__,
                                time.perf_counter() - started, ok=False)
                    retrying = job is not None and not inline and (job.retries_left or 0) > 0
                    _mark(job, QUEUED if retrying else FAILED, message=str(exc)[:500])
                    raise
                _mark(job, FINISHED, result=result if isinstance(result, dict) else {})
                observe_job(func.__module__ + "." + func.__name__,
                            time.perf_counter() - started, ok=True)
                return result
            finally:
                reset_scope(token)
                db.session.remove()

    return wrapper


def _mark(job: Job | None, status: str, message: str = "", result: dict | None = None) -> None:
    if job is None:
        return
    run = db.session.get(JobRun, job.id)
    if run is None:
        return
    run.status = status
    now = utcnow()
    if status == STARTED:
        run.started_at = now
        run.attempts += 1
        run.message = ""
    elif status in (FINISHED, FAILED):
        run.ended_at = now
        run.progress = 100 if status == FINISHED else run.progress
    if message:
        run.message = message
    if result is not None:
        run.result = result
        run.message = result.get("message", run.message) if isinstance(result, dict) else ""
    db.session.commit()


def live_progress(run: JobRun) -> int:
    """Progress of a run: from RQ's ``job.meta`` while it runs, else from the row."""
    if run.status != STARTED:
        return run.progress
    conn = redis_connection()
    if conn is None:
        return run.progress
    try:
        job = Job.fetch(run.id, connection=conn)
        return int(job.get_meta(refresh=True).get("progress", run.progress))
    except Exception:  # the job expired from Redis: the row is the truth
        return run.progress


def import_job_function(path: str) -> Callable:
    module, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def purge_before(days: int = 90) -> int:
    """Delete finished job runs (and their files) older than ``days``."""
    cutoff = utcnow() - timedelta(days=days)
    runs = db.session.execute(
        db.select(JobRun.id).where(JobRun.created_at < cutoff, JobRun.status.in_((FINISHED, FAILED)))
    ).scalars().all()
    if runs:
        db.session.execute(db.delete(JobFile).where(JobFile.job_id.in_(runs)))
        db.session.execute(db.delete(JobRun).where(JobRun.id.in_(runs)))
    return len(runs)
