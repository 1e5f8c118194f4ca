"""Churn jobs: keep each chapter's matrix at the month end (HQ reads these snapshots).

``snapshot_all`` runs from ``rq cron`` (``clubplatform.schedule``, 02:30 Asia/Shanghai
on the 1st) and submits one ``snapshot_month`` job per chapter with the id
``churn-snapshot-c<chapter>-<YYYY-MM>``: a second fan-out for the same month submits
nothing. ``snapshot_month`` replaces the chapter's month (idempotent). The fan-out first
repairs the person keys shared between chapters (``chapter.owners.person_keys``), which
the matrix's "serviced elsewhere" reads.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.churn import service
from chapter.owners import person_keys
from clubplatform import jobs
from clubplatform.extensions import db
from clubplatform.org.models import Chapter
from clubplatform.tenancy import unscoped

JOB_NAME = "churn-snapshot"


def _month(month: str | None) -> date:
    if not month:
        return service.last_complete_month()
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)


@jobs.tracked
def snapshot_month(chapter_id: int, month: str | None = None) -> dict:
    """Keep the chapter's matrix of ``month`` (``YYYY-MM``; the month just ended)."""
    first = _month(month)
    matrix = service.write_snapshot(chapter_id, first)
    return {"month": f"{first:%Y-%m}", "owners": matrix.total,
            "message": f"churn matrix of {first:%Y-%m}: {matrix.total} owners"}


@jobs.tracked
def snapshot_all(chapter_id: int | None = None, month: str | None = None,
                 again: str | None = None) -> dict:
    """Fan out: one ``snapshot_month`` job per chapter founded by the month's end.

    ``again`` (a token) makes new job ids, for an explicit re-computation by HQ.
    """
    first = _month(month)
    with unscoped("churn snapshot fan-out: every chapter"):
        # "serviced elsewhere" reads the shared person keys: exact before the month is kept
        person_keys.repair()
        ids = [chapter_id] if chapter_id is not None else list(db.session.execute(
            sa.select(Chapter.id).where(Chapter.founded_on <= service.as_of_for(first))
            .order_by(Chapter.id)).scalars())
    db.session.commit()
    for cid in ids:
        jobs.submit(snapshot_month, f"{first:%Y-%m}", name=JOB_NAME, chapter_id=cid,
                    key=f"{first:%Y-%m}-{again}" if again else f"{first:%Y-%m}")
    return {"chapters": len(ids), "message": f"churn snapshots of {len(ids)} chapters submitted"}


#: jobs ``flask jobs run NAME`` can start (registered in ``chapter.JOBS``)
JOBS = {"churn-snapshot": snapshot_all}
