"""Settlement jobs.

The monthly draft is one set-based job for all chapters and partners (the drafting SQL
handles every chapter in a few statements, faster than one job per chapter), with a
deterministic id per month (``settlement_draft-hq-2026-05-01``): the scheduler's second
submit of the same month returns the run already there, and a retried run re-drafts
the drafts to the same result (idempotent).
"""

from __future__ import annotations

from datetime import date

from clubplatform import jobs
from clubplatform.tenancy import unscoped
from hq.settlement import service

JOB_NAME = "settlement_draft"


@jobs.tracked
def draft_month(chapter_id: None, month: str | None = None) -> dict:
    """Draft the statements of ``month`` (``YYYY-MM-DD``; default: the month before)."""
    first = date.fromisoformat(month) if month else service.previous_month()
    with unscoped("settlement: HQ drafts every chapter's statement"):
        result = service.draft_month(first)
    return result.as_dict()


def submit_draft(month: date | None = None, *, user_id: int | None = None):
    """Submit the draft job of a month once (deterministic id)."""
    first = (month or service.previous_month()).replace(day=1)
    return jobs.submit(draft_month, first.isoformat(), name=JOB_NAME, chapter_id=None,
                       user_id=user_id, key=first.isoformat())


#: jobs ``flask jobs run NAME`` can start
RUNNABLE = {"settlement-draft": draft_month}
