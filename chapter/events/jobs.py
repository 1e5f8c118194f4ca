"""Event jobs: after events end, mark no-shows and settle attendance points.

``close_events(chapter_id)`` works on one chapter; ``close_events_all`` (registered in
``clubplatform.schedule``) fans out one job per chapter with a deterministic id per day.
Both are idempotent: no-shows are marked once and the ledger's key keeps attendance
points to one entry per attendee and event, so RQ's retries write nothing twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from chapter.events import service
from clubplatform import dates, jobs
from clubplatform.extensions import db
from clubplatform.org.models import Chapter
from clubplatform.tenancy import chapter_scope


def close_chapter_events(chapter_id: int) -> dict:
    """Close the chapter's ended events (commits after each event)."""
    closed = no_shows = awarded = 0
    with chapter_scope(chapter_id):
        for event_id in service.events_to_close():
            result = service.mark_no_shows(event_id)
            db.session.commit()
            closed += 1
            no_shows += result.no_shows
            awarded += result.points_awarded
    return {"events": closed, "no_shows": no_shows, "points_awarded": awarded,
            "message": f"{closed} events closed"}


@jobs.tracked
def close_events(chapter_id: int | None) -> dict:
    """Mark no-shows and settle attendance points of the chapter's (every chapter's) ended events."""
    if chapter_id is not None:
        return close_chapter_events(chapter_id)
    totals = {"events": 0, "no_shows": 0, "points_awarded": 0}
    for cid in _open_chapters():
        db.session.commit()
        db.session.remove()  # one chapter per session
        result = close_chapter_events(cid)
        for k in totals:
            totals[k] += result[k]
    return {**totals, "message": f"{totals['events']} events closed"}


def _open_chapters() -> list[int]:
    return list(db.session.execute(
        sa.select(Chapter.id).where(Chapter.closed_on.is_(None)).order_by(Chapter.id)).scalars())


@jobs.tracked
def close_events_all(chapter_id: None = None) -> dict:
    """Fan out: one ``close_events`` job per open chapter (one per chapter and day)."""
    ids = _open_chapters()
    day = dates.today().isoformat()
    for cid in ids:
        jobs.submit(close_events, name="events-close", chapter_id=cid, key=day)
    return {"chapters": len(ids)}


#: jobs ``flask jobs run NAME`` can start
JOBS = {"events-close": close_events}
