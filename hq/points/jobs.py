"""Points jobs of HQ: monthly expiry and tier recomputation, the daily birthday gift.

HQ-wide jobs (``chapter_id`` is ``None``). Each commits after every member id range,
so a long run keeps its progress; each is idempotent (unique idempotency keys and one
tier change per member and day), so RQ's retries and a rerun after a crash write
nothing twice. Without an argument they work on the month just ended (expiry, tiers)
or today (birthdays), Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date

from clubplatform import dates, jobs
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points import birthdays, expiry, tiers

WHY = "HQ points job: all members of every chapter"


def parse_month(month: str | None) -> date:
    """``YYYY-MM`` to that month's last day; ``None`` to the month just ended."""
    if not month:
        return expiry.last_month_end()
    year, mon = (int(p) for p in month.split("-"))
    return dates.month_end(date(year, mon, 1))


def _commit_and_report(done: int, total: int) -> None:
    db.session.commit()
    jobs.report_progress(done, total)


@jobs.tracked
def expire_points(chapter_id: None, month: str | None = None) -> dict:
    """Expire the points that expire at the end of ``month`` (``YYYY-MM``)."""
    with unscoped(WHY):
        return expiry.expire_month(parse_month(month),
                                   after_chunk=_commit_and_report).as_dict()


@jobs.tracked
def recompute_tiers(chapter_id: None, month: str | None = None) -> dict:
    """Recompute members' tiers for ``month`` (``YYYY-MM``)."""
    with unscoped(WHY):
        return tiers.recompute_month(parse_month(month),
                                     after_chunk=_commit_and_report).as_dict()


@jobs.tracked
def give_birthday_points(chapter_id: None, day: str | None = None) -> dict:
    """Give the birthday gifts of ``day`` (``YYYY-MM-DD``; today by default)."""
    on = date.fromisoformat(day) if day else dates.today()
    with unscoped(WHY):
        return birthdays.give_birthday_points(on, after_chunk=_commit_and_report).as_dict()


#: jobs ``flask jobs run NAME`` can start (registered in ``hq.JOBS``)
JOBS = {
    "points-expire": expire_points,
    "points-tiers": recompute_tiers,
    "points-birthdays": give_birthday_points,
}
