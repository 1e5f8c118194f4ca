"""Care-list jobs: the nightly fan-out and one chapter's generation (with catch-up).

``generate_all`` runs from ``rq cron`` (``clubplatform.schedule``, 00:30 Asia/Shanghai)
and submits one ``generate`` job per open chapter with the id
``care-list-c<chapter>-<day>``: a second fan-out the same day submits nothing.
``generate`` catches up the days missed since the chapter's last run and is idempotent.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from chapter.care import service
from clubplatform import dates, jobs
from clubplatform.extensions import db
from clubplatform.org.models import Chapter
from clubplatform.tenancy import unscoped

JOB_NAME = "care-list"


@jobs.tracked
def generate(chapter_id: int, day: str | None = None) -> dict:
    """Generate the chapter's care list up to ``day`` (``YYYY-MM-DD``; today by default)."""
    today = date.fromisoformat(day) if day else dates.today()
    days = service.days_to_generate(chapter_id, today)
    added = greeted = 0
    for i, d in enumerate(days, start=1):
        result = service.generate_day(chapter_id, d)
        added += result.tasks_added
        greeted += result.greetings_queued
        db.session.commit()  # each day is kept, so a crash resumes after it
        jobs.report_progress(i, len(days))
    return {"days": [d.isoformat() for d in days], "tasks_added": added,
            "greetings_queued": greeted,
            "message": f"{added} care tasks, {greeted} greetings over {len(days)} day(s)"}


def open_chapter_ids(on: date) -> list[int]:
    with unscoped("care-list fan-out: every open chapter"):
        return list(db.session.execute(
            sa.select(Chapter.id).where(Chapter.founded_on <= on,
                                        sa.or_(Chapter.closed_on.is_(None), Chapter.closed_on > on))
            .order_by(Chapter.id)).scalars())


@jobs.tracked
def generate_all(chapter_id: int | None = None, day: str | None = None) -> dict:
    """Fan out: one ``generate`` job per open chapter (or the one given), id per chapter and day."""
    on = date.fromisoformat(day) if day else dates.today()
    ids = [chapter_id] if chapter_id is not None else open_chapter_ids(on)
    db.session.commit()
    for cid in ids:
        jobs.submit(generate, on.isoformat(), name=JOB_NAME, chapter_id=cid, key=on.isoformat())
    return {"chapters": len(ids), "message": f"care lists of {len(ids)} chapters submitted"}


#: jobs ``flask jobs run NAME`` can start (registered in ``chapter.JOBS``)
JOBS = {"care-list": generate_all}
