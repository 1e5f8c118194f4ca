"""Complaint jobs: escalate what needs the manager, one job per chapter.

``escalate_complaints(chapter_id)`` is idempotent (a complaint is escalated once until
it is reopened; care-list tasks are keyed), so RQ's retries and reruns change nothing.
``escalate_all_chapters(None)`` is the recurring fan-out (``clubplatform.schedule``):
it submits one job per open chapter with a deterministic id (chapter and Shanghai
hour), so a second run in the same hour enqueues nothing new.
"""

from __future__ import annotations

import sqlalchemy as sa

from clubplatform import dates, jobs
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.org.models import Chapter

NAME = "complaints-escalate"


@jobs.tracked
def escalate_complaints(chapter_id: int) -> dict:
    """Escalate the chapter's complaints whose promise was missed or that are open too long."""
    from chapter.complaints import service

    if chapter_id is None:  # ``flask jobs run complaints-escalate`` without --chapter
        return _fan_out()
    return service.escalate_due(chapter_id)


@jobs.tracked
def escalate_all_chapters(chapter_id: None = None) -> dict:
    """Submit :func:`escalate_complaints` for every open chapter (deterministic job ids)."""
    return _fan_out()


def _fan_out() -> dict:
    hour = utcnow().astimezone(dates.SHANGHAI).strftime("%Y%m%d%H")
    chapter_ids = db.session.execute(
        sa.select(Chapter.id).where(Chapter.closed_on.is_(None)).order_by(Chapter.id)).scalars().all()
    db.session.commit()  # end the read before the submits commit their own rows
    submitted = 0
    for cid in chapter_ids:
        run = jobs.submit(escalate_complaints, name=NAME, chapter_id=cid, key=hour)
        submitted += 1 if run is not None else 0
    return {"chapters": submitted, "message": f"{submitted} chapters"}


#: jobs ``flask jobs run NAME`` can start (registered in ``chapter.JOBS``)
JOBS = {NAME: escalate_complaints}
