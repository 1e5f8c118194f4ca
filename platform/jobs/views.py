"""The Jobs page: a user's (and their chapter's) background jobs with live progress."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.jobs.models import QUEUED, JobFile, JobRun

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

STATUS_LABELS = {
    "queued": _l("Waiting"),
    "started": _l("Running"),
    "finished": _l("Finished"),
    "failed": _l("Failed"),
}
#: a queued run that has not reached the queue yet: Redis was unreachable when it was
#: submitted; it is enqueued once Redis is back (clubplatform.jobs.requeue_pending)
WAITING_FOR_QUEUE = _l("Waiting for the job queue")
JOB_LABELS = {
    "org.import_dealers": _l("Dealer import"),
    "jobs.purge": _l("Clean up old jobs"),
}


def visible_runs() -> sa.Select:
    """Runs the current user may see: their own, and their chapter's for chapter users.

    HQ users see HQ-level runs (no chapter) too. Another chapter's run is never visible.
    """
    stmt = sa.select(JobRun).order_by(JobRun.created_at.desc())
    if current_user.is_chapter_user:
        return stmt.where(sa.or_(JobRun.user_id == current_user.id,
                                 JobRun.chapter_id == current_user.chapter_id))
    if current_user.is_hq:
        return stmt.where(sa.or_(JobRun.user_id == current_user.id, JobRun.chapter_id.is_(None)))
    return stmt.where(JobRun.user_id == current_user.id)


def get_visible_run(job_id: str) -> JobRun:
    run = db.session.execute(visible_runs().where(JobRun.id == job_id)).scalar_one_or_none()
    if run is None:
        abort(404)
    return run


def status_label(run: JobRun) -> str:
    """The run's status for people: "Waiting for the job queue" until it reaches it."""
    if run.status == QUEUED and run.enqueued_at is None:
        return str(WAITING_FOR_QUEUE)
    return str(STATUS_LABELS.get(run.status, run.status))


def run_status(run: JobRun) -> dict:
    return {
        "id": run.id,
        "name": run.name,
        "status": run.status,
        "status_label": status_label(run),
        "progress": jobs.live_progress(run),
        "message": run.message,
        "result": run.result,
    }


@bp.route("/")
@login_required
def index():
    """Recent jobs."""
    page = db.paginate(visible_runs(), per_page=30, error_out=False)
    return render_template("jobs/index.html", page=page, status_label=status_label,
                           job_labels=JOB_LABELS)


@bp.route("/<job_id>/status")
@login_required
def status(job_id: str):
    """Progress of one job as JSON, polled by the page."""
    return jsonify(run_status(get_visible_run(job_id)))


@bp.route("/<job_id>/errors")
@login_required
def errors(job_id: str):
    """Download the job's error report."""
    run = get_visible_run(job_id)
    f = db.session.execute(
        sa.select(JobFile).where(JobFile.job_id == run.id, JobFile.kind == "errors")
    ).scalar_one_or_none()
    if f is None:
        abort(404)
    return Response(f.content, mimetype=f.content_type,
                    headers={"Content-Disposition": f"attachment; filename={f.filename}"})


@bp.route("/<job_id>")
@login_required
def detail(job_id: str):
    """One job: progress bar while it runs, then its result and error report."""
    run = get_visible_run(job_id)
    has_errors = db.session.execute(
        sa.select(sa.func.count()).select_from(JobFile)
        .where(JobFile.job_id == run.id, JobFile.kind == "errors")
    ).scalar_one() > 0
    return render_template("jobs/detail.html", run=run, status=run_status(run),
                           has_errors=has_errors, job_labels=JOB_LABELS)
