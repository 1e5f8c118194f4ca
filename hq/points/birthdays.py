"""Daily birthday gift: active members whose birthday is today get the ``birthday`` rule's points.

Once per member and year (idempotency key ``birthday:<member_id>:<year>``), funded by
HQ, booked at the member's current chapter. A member born on 29 February celebrates
on 28 February in years without one.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from clubplatform import dates
from clubplatform.extensions import db
from hq.members.models import ACTIVE, Member
from hq.points import ledger
from hq.points.models import EARN

#: members per flush / progress report
CHUNK = 500


@dataclass
class BirthdayRun:
    on: date
    members: int = 0
    points: int = 0

    def as_dict(self) -> dict:
        return {"on": self.on.isoformat(), "members": self.members, "points": self.points,
                "message": f"{self.members} birthday gifts on {self.on}"}


def idempotency_key(member_id: int, year: int) -> str:
    return f"birthday:{member_id}:{year}"


def birthday_filter(on: date):
    """SQL: the member's birthday falls on ``on`` (29 Feb on 28 Feb in common years)."""
    m = Member.__table__
    month, day = sa.extract("month", m.c.birthday), sa.extract("day", m.c.birthday)
    same_day = sa.and_(month == on.month, day == on.day)
    if on.month == 2 and on.day == 28 and not calendar.isleap(on.year):
        return sa.or_(same_day, sa.and_(month == 2, day == 29))
    return same_day


def give_birthday_points(on: date | None = None, *,
                         after_chunk: Callable[[int, int], None] | None = None) -> BirthdayRun:
    """Give today's birthday gifts; a second run the same year gives nothing."""
    on = on or dates.today()
    run = BirthdayRun(on)
    rule = ledger.rule_at("birthday", on=on)
    if rule is None or rule.value <= 0:
        return run
    m = Member.__table__
    rows = db.session.execute(
        sa.select(m.c.id, m.c.chapter_id)
        .where(m.c.status == ACTIVE, m.c.birthday.is_not(None), birthday_filter(on))
        .order_by(m.c.id)
    ).all()
    for i, (member_id, chapter_id) in enumerate(rows, start=1):
        posted = ledger.post(
            member_id=member_id, chapter_id=chapter_id, kind=EARN, reason="birthday",
            points=rule.value, funder="hq", rule_id=rule.id, business_date=on,
            idempotency_key=idempotency_key(member_id, on.year),
            source_ref=f"birthday:{on.year}")
        if posted.created:
            run.members += 1
            run.points += rule.value
        if after_chunk is not None and (i % CHUNK == 0 or i == len(rows)):
            db.session.flush()
            after_chunk(i, len(rows))
    return run


__all__ = ["BirthdayRun", "birthday_filter", "give_birthday_points", "idempotency_key"]
