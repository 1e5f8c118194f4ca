"""Analytics jobs: the monthly snapshot and the backfill (HQ jobs, ``chapter_id`` None).

Both are one set-based job (the figures of every chapter come from one statement) with
a deterministic id per month or range, and idempotent: a month already snapshotted is
kept as it is, so a retried or repeated run writes nothing new.
"""

from __future__ import annotations

from datetime import date

from clubplatform import jobs
from clubplatform.analytics import figures, service
from clubplatform.tenancy import unscoped

SNAPSHOT_JOB = "analytics_snapshot"
BACKFILL_JOB = "analytics_backfill"


@jobs.tracked
def snapshot_month(chapter_id: None, month_end: str | None = None) -> dict:
    """Snapshot ``month_end`` (``YYYY-MM-DD``; default: the month just ended)."""
    day = date.fromisoformat(month_end) if month_end else figures.last_complete_month_end()
    with unscoped("analytics: HQ's month-end figures read every chapter"):
        return service.snapshot_month(day, source="job").as_dict()


@jobs.tracked
def backfill(chapter_id: None, first: str, last: str) -> dict:
    """Snapshot every month end from ``first`` to ``last`` (ISO dates) that has none."""
    with unscoped("analytics: backfill of HQ's month-end figures"):
        return service.snapshot_months(date.fromisoformat(first), date.fromisoformat(last),
                                       source="backfill").as_dict()


def submit_snapshot(month_end: date | None = None, *, user_id: int | None = None):
    day = month_end or figures.last_complete_month_end()
    return jobs.submit(snapshot_month, day.isoformat(), name=SNAPSHOT_JOB, chapter_id=None,
                       user_id=user_id, key=day.isoformat())


def submit_backfill(first: date, last: date, *, user_id: int | None = None):
    return jobs.submit(backfill, first.isoformat(), last.isoformat(), name=BACKFILL_JOB,
                       chapter_id=None, user_id=user_id,
                       key=f"{first.isoformat()}_{last.isoformat()}")


#: jobs ``flask jobs run NAME`` can start
RUNNABLE = {"analytics-snapshot": snapshot_month}
