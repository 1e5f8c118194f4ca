"""Platform maintenance jobs."""

from __future__ import annotations

from clubplatform import jobs


@jobs.tracked
def purge_job_runs(chapter_id: None, days: int = 90) -> dict:
    """Delete finished and failed job runs (and their files) older than ``days``."""
    removed = jobs.purge_before(days)
    return {"removed": removed, "message": f"{removed} old job runs removed"}


@jobs.tracked
def requeue_pending_runs(chapter_id: None) -> dict:
    """Enqueue the runs submitted while Redis was unreachable (every minute, ``rq cron``)."""
    requeued = jobs.requeue_pending()
    return {"requeued": requeued,
            "message": f"{requeued} waiting job runs enqueued"}


#: jobs that ``flask jobs run NAME`` can start by hand
RUNNABLE = {
    "purge-job-runs": purge_job_runs,
    "jobs-requeue": requeue_pending_runs,
}
